/**
 * layoutGraph: a small layered ("Sugiyama") layout for pictures of 1 to a few dozen nodes, computed on the server.
 * Steps: break cycles (rank.ts), rank by longest path, cut edges into unit steps with label slots (layers.ts),
 * order layers by barycenter sweeps (order.ts), place along layers (position.ts), route curves (route.ts).
 * Deterministic: the same input gives the same picture.
 */
import { buildLayers, type OrientedEdge } from './layers.ts';
import { orderLayers } from './order.ts';
import { positionLayers } from './position.ts';
import { backEdges, longestPathRanks, type IndexEdge } from './rank.ts';
import { ARROW_LENGTH, curveThrough, LOOP_BULGE, LOOP_STEP, loopCurve, mapCurve, port, svgPaths, type Curve } from './route.ts';
import { LABEL_FONT_PX, safeClasses, shorten, SMALL_FONT_PX, textWidth } from './text.ts';
import type { Box, GraphInput, GraphLayout, GraphNodeInput, PlacedEdge, PlacedNode, Point } from './types.ts';

/** Space around the picture. */
const MARGIN = 12;
/** Space between a layer's deepest box and the next layer's. */
const RANK_GAP = 16;
const NODE_PAD_X = 12;
const NODE_HEIGHT = 30;
const NODE_HEIGHT_TWO_LINES = 42;
const MIN_NODE_WIDTH = 48;
const DOT_SIZE = 14;
const DOUBLE_INSET = 6;
const LABEL_PAD_X = 4;
const LABEL_HEIGHT = 16;

/** The drawn size of a node. */
function nodeSize(n: GraphNodeInput, label: string, sublabel: string | undefined): { width: number; height: number } {
  if (n.shape === 'dot') return { width: DOT_SIZE, height: DOT_SIZE };
  const text = Math.max(textWidth(label, LABEL_FONT_PX), sublabel ? textWidth(sublabel, SMALL_FONT_PX) : 0);
  const extra = n.shape === 'double' ? DOUBLE_INSET : 0;
  return { width: Math.max(MIN_NODE_WIDTH, text + 2 * NODE_PAD_X) + extra, height: (sublabel ? NODE_HEIGHT_TWO_LINES : NODE_HEIGHT) + extra };
}

/** Lays out a graph. Throws on an edge naming an unknown node or on a repeated node id (caller errors). */
export function layoutGraph(input: GraphInput): GraphLayout {
  const direction = input.direction ?? 'TB';
  const lr = direction === 'LR';
  // Layout space: layers go down y, "breadth" runs along x. LR swaps the axes at the end.
  const along = (s: { width: number; height: number }) => (lr ? s.height : s.width);
  const across = (s: { width: number; height: number }) => (lr ? s.width : s.height);

  const index = new Map<string, number>();
  input.nodes.forEach((n, i) => {
    if (index.has(n.id)) throw new Error(`layoutGraph: node id ${JSON.stringify(n.id)} is given twice`);
    index.set(n.id, i);
  });
  const at = (id: string) => {
    const i = index.get(id);
    if (i === undefined) throw new Error(`layoutGraph: edge names unknown node ${JSON.stringify(id)}`);
    return i;
  };

  const shown = input.nodes.map((n) => {
    const label = shorten(n.label);
    const sublabel = n.sublabel ? shorten(n.sublabel, 40) : undefined;
    return { label, sublabel, size: nodeSize(n, label, sublabel) };
  });
  const edgeLabels = input.edges.map((e) => {
    if (!e.label) return undefined;
    const text = shorten(e.label);
    return { text, size: { width: textWidth(text, SMALL_FONT_PX) + 2 * LABEL_PAD_X, height: LABEL_HEIGHT } };
  });

  // Loops stay out of the ranking; they take room beside their node instead.
  const loopsOf = new Map<number, number[]>();
  const straight: { edge: number; e: IndexEdge }[] = [];
  input.edges.forEach((e, i) => {
    const from = at(e.from);
    const to = at(e.to);
    if (from === to) loopsOf.set(from, [...(loopsOf.get(from) ?? []), i]);
    else straight.push({ edge: i, e: { from, to } });
  });
  const reversed = backEdges(input.nodes.length, straight.map((s) => s.e));
  const oriented: (OrientedEdge & { edge: number; back: boolean })[] = straight.map((s, k) => {
    const back = reversed.has(k);
    const label = edgeLabels[s.edge];
    return { edge: s.edge, back, from: back ? s.e.to : s.e.from, to: back ? s.e.from : s.e.to, label: label && { breadth: along(label.size), depth: across(label.size) } };
  });
  const ranks = longestPathRanks(input.nodes.length, oriented, 2);

  const loopRoom = (i: number) => {
    const loops = loopsOf.get(i) ?? [];
    if (loops.length === 0) return 0;
    const labelRoom = Math.max(0, ...loops.map((l) => (edgeLabels[l] ? along(edgeLabels[l]!.size) + 6 : 0)));
    return LOOP_BULGE + (loops.length - 1) * LOOP_STEP + labelRoom;
  };
  const g = buildLayers(
    shown.map((s, i) => ({ breadth: along(s.size), depth: across(s.size), after: loopRoom(i) })),
    ranks,
    oriented,
  );
  const layers = orderLayers(g);
  const xs = positionLayers(g, layers);
  const depthOf = layers.map((l) => Math.max(0, ...l.map((id) => g.nodes[id]!.depth)));
  const ys: number[] = [];
  let y = 0;
  depthOf.forEach((d, r) => {
    if (r > 0) y += depthOf[r - 1]! / 2 + RANK_GAP + d / 2;
    ys.push(y);
  });
  const centre = (id: number): Point => ({ x: xs[id]!, y: ys[g.nodes[id]!.rank]! });

  // Curves in layout space.
  const curves: { edge: number; back: boolean; curve: Curve; labelAt?: Point }[] = [];
  oriented.forEach((o, k) => {
    const chain = g.chains[k]!;
    const a = g.nodes[o.from]!;
    const b = g.nodes[o.to]!;
    const first = chain.length > 0 ? centre(chain[0]!) : centre(o.to);
    const last = chain.length > 0 ? centre(chain[chain.length - 1]!) : centre(o.from);
    const points = [port(centre(o.from), a.breadth, a.depth, 1, first), ...chain.map(centre), port(centre(o.to), b.breadth, b.depth, -1, last)];
    const labelId = chain.find((id) => g.nodes[id]!.kind === 'label');
    curves.push({ edge: o.edge, back: o.back, curve: curveThrough(o.back ? points.reverse() : points), labelAt: labelId === undefined ? undefined : centre(labelId) });
  });
  for (const [i, loops] of loopsOf) {
    const n = g.nodes[i]!;
    const c = centre(i);
    const labelX = c.x + n.breadth / 2 + LOOP_BULGE + (loops.length - 1) * LOOP_STEP + 6;
    const labelled = loops.filter((l) => edgeLabels[l]);
    loops.forEach((edge, nth) => {
      const label = edgeLabels[edge];
      const k = labelled.indexOf(edge);
      const labelAt = label && { x: labelX + along(label.size) / 2, y: c.y + (k - (labelled.length - 1) / 2) * (across(label.size) + 2) };
      curves.push({ edge, back: false, curve: loopCurve(c, n.breadth, n.depth, nth), labelAt });
    });
  }

  // To picture space: transpose for LR, then shift so everything sits inside the margin.
  const flip = (p: Point): Point => (lr ? { x: p.y, y: p.x } : p);
  const boxes: Box[] = input.nodes.map((_, i) => ({ ...flip(centre(i)), ...shown[i]!.size }));
  const finalCurves = curves.map((c) => ({ ...c, curve: mapCurve(c.curve, flip), labelBox: c.labelAt && { ...flip(c.labelAt), ...edgeLabels[c.edge]!.size } }));
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const cover = (p: Point, w = 0, h = 0) => {
    minX = Math.min(minX, p.x - w / 2);
    minY = Math.min(minY, p.y - h / 2);
    maxX = Math.max(maxX, p.x + w / 2);
    maxY = Math.max(maxY, p.y + h / 2);
  };
  for (const b of boxes) cover(b, b.width, b.height);
  for (const c of finalCurves) {
    // A Bézier piece stays inside the hull of its control points; arrowheads reach a little beyond the line.
    for (const p of [c.curve.start, ...c.curve.pieces.flatMap((p) => [p.c1, p.c2, p.to])]) cover(p, ARROW_LENGTH, ARROW_LENGTH);
    if (c.labelBox) cover(c.labelBox, c.labelBox.width, c.labelBox.height);
  }
  if (minX === Infinity) [minX, minY, maxX, maxY] = [0, 0, 0, 0];
  const shift = (p: Point): Point => ({ x: p.x - minX + MARGIN, y: p.y - minY + MARGIN });

  const nodes: PlacedNode[] = input.nodes.map((n, i) => ({
    id: n.id,
    ...boxes[i]!,
    ...shift(boxes[i]!),
    label: shown[i]!.label,
    sublabel: shown[i]!.sublabel,
    title: [n.label, n.sublabel, n.title].filter(Boolean).join('\n'),
    className: safeClasses(n.className),
    shape: n.shape ?? 'box',
    rank: ranks[i]! / 2,
  }));
  // Indexed by input edge, so the picture keeps the caller's edge order.
  const edges: PlacedEdge[] = new Array(input.edges.length);
  for (const c of finalCurves) {
    const e = input.edges[c.edge]!;
    const curve = mapCurve(c.curve, shift);
    const label = edgeLabels[c.edge];
    edges[c.edge] = {
      from: e.from,
      to: e.to,
      label: label?.text,
      title: e.label,
      labelBox: c.labelBox && { ...c.labelBox, ...shift(c.labelBox) },
      className: safeClasses(e.className),
      back: c.back,
      loop: e.from === e.to,
      points: [curve.start, ...curve.pieces.map((p) => p.to)],
      ...svgPaths(curve),
    };
  }
  return { width: Math.ceil(maxX - minX + 2 * MARGIN), height: Math.ceil(maxY - minY + 2 * MARGIN), direction, nodes, edges };
}
