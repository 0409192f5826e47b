/**
 * Edge geometry in layout space (layers run down the y axis; an LR picture is transposed afterwards): ports on
 * node sides, smooth curves through an edge's bend points, arrowheads, and loops beside their node.
 */
import type { Point } from './types.ts';

/** A cubic Bézier piece; a path is a start point and pieces. */
export interface Piece {
  c1: Point;
  c2: Point;
  to: Point;
}

/** A path in layout space. */
export interface Curve {
  start: Point;
  pieces: Piece[];
}

/** Length of an arrowhead. */
export const ARROW_LENGTH = 8;
const ARROW_HALF_WIDTH = 4;
/** How far the first loop of a node bulges out beside it. */
export const LOOP_BULGE = 22;
/** How much further each next loop of the same node bulges. */
export const LOOP_STEP = 10;

/** Where an edge leaves or enters a node's lower (`side` 1) or upper (`side` -1) face, aimed at `toward`. */
export function port(centre: Point, breadth: number, depth: number, side: 1 | -1, toward: Point): Point {
  const dy = Math.abs(toward.y - centre.y);
  const slope = dy < 1e-6 ? 0 : (toward.x - centre.x) / dy;
  // Keep ports off the rounded corners.
  const reach = Math.max(0, breadth / 2 - Math.min(10, breadth / 4));
  const dx = Math.max(-reach, Math.min(reach, (slope * depth) / 2));
  return { x: centre.x + dx, y: centre.y + (side * depth) / 2 };
}

/** A smooth curve through `points`, leaving and entering each point along the layer axis. */
export function curveThrough(points: readonly Point[]): Curve {
  const pieces: Piece[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const half = (b.y - a.y) / 2;
    pieces.push({ c1: { x: a.x, y: a.y + half }, c2: { x: b.x, y: b.y - half }, to: b });
  }
  return { start: points[0]!, pieces };
}

/** The loop of `from` onto itself, on the node's far side along the layer; `nth` loops nest outwards. */
export function loopCurve(centre: Point, breadth: number, depth: number, nth: number): Curve {
  const side = centre.x + breadth / 2;
  const bulge = side + LOOP_BULGE + nth * LOOP_STEP;
  const rise = Math.min(depth / 4, 8);
  const start = { x: side, y: centre.y - rise };
  const end = { x: side, y: centre.y + rise };
  return { start, pieces: [{ c1: { x: bulge, y: start.y - 10 - nth * 4 }, c2: { x: bulge, y: end.y + 10 + nth * 4 }, to: end }] };
}

/** Maps every point of a curve. */
export function mapCurve(c: Curve, f: (p: Point) => Point): Curve {
  return { start: f(c.start), pieces: c.pieces.map((p) => ({ c1: f(p.c1), c2: f(p.c2), to: f(p.to) })) };
}

const fmt = (n: number) => String(Math.round(n * 10) / 10);
const pt = (p: Point) => `${fmt(p.x)},${fmt(p.y)}`;

/** SVG path data of a curve whose end is pulled back under its arrowhead, and the arrowhead's path data. */
export function svgPaths(c: Curve): { path: string; arrow: string } {
  const last = c.pieces[c.pieces.length - 1]!;
  const tip = last.to;
  let dx = tip.x - last.c2.x;
  let dy = tip.y - last.c2.y;
  if (Math.hypot(dx, dy) < 1e-6) {
    dx = tip.x - (c.pieces.length > 1 ? c.pieces[c.pieces.length - 2]!.to.x : c.start.x);
    dy = tip.y - (c.pieces.length > 1 ? c.pieces[c.pieces.length - 2]!.to.y : c.start.y);
  }
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const base = { x: tip.x - ux * ARROW_LENGTH, y: tip.y - uy * ARROW_LENGTH };
  const left = { x: base.x - uy * ARROW_HALF_WIDTH, y: base.y + ux * ARROW_HALF_WIDTH };
  const right = { x: base.x + uy * ARROW_HALF_WIDTH, y: base.y - ux * ARROW_HALF_WIDTH };
  const pieces = c.pieces.map((p, i) => (i === c.pieces.length - 1 ? { ...p, to: base } : p));
  const path = `M${pt(c.start)}${pieces.map((p) => ` C${pt(p.c1)} ${pt(p.c2)} ${pt(p.to)}`).join('')}`;
  return { path, arrow: `M${pt(tip)} L${pt(left)} L${pt(right)} Z` };
}
