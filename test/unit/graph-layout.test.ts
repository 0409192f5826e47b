/** The kernel's layered-graph layout and its SVG: boxes apart, every edge drawn end to end, cycles, ranks, escaping. */
import { describe, expect, it } from 'vitest';
import { GraphSvg, layoutGraph, type GraphInput, type GraphLayout } from '../../src/kernel/index.ts';
import type { Box, Point } from '../../src/kernel/ui/graph/types.ts';

/** A small seeded generator, so a failing case can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random DAG: edges only from an earlier to a later node, in shuffled order. */
function randomDag(seed: number, n: number, p: number): GraphInput {
  const r = rng(seed);
  const names = Array.from({ length: n }, (_, i) => `step-${i}`);
  const edges = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (r() < p) edges.push({ from: names[i]!, to: names[j]! });
  edges.sort(() => r() - 0.5);
  return { nodes: names.map((id) => ({ id, label: id, sublabel: r() < 0.5 ? 'action demo.work' : undefined })), edges };
}

/** A random state machine: a main path with labelled edges, branches, retry loops back up and self-loops. */
function randomMachine(seed: number, n: number): GraphInput {
  const r = rng(seed);
  const names = Array.from({ length: n }, (_, i) => `state_${i}`);
  const edges: GraphInput['edges'] = [];
  for (let i = 0; i + 1 < n; i++) edges.push({ from: names[i]!, to: names[i + 1]!, label: 'http' });
  for (let k = 0; k < n / 2; k++) {
    const a = Math.floor(r() * n);
    const b = Math.floor(r() * n);
    edges.push({ from: names[a]!, to: names[b]!, label: r() < 0.5 ? 'callback' : 'timeout 5m' });
  }
  return { nodes: names.map((id, i) => ({ id, label: id, shape: i === n - 1 ? ('double' as const) : undefined })), edges };
}

const overlap = (a: Box, b: Box) => Math.abs(a.x - b.x) < (a.width + b.width) / 2 && Math.abs(a.y - b.y) < (a.height + b.height) / 2;

/** Distance from p to the border of box b (0 on the border). */
function toBorder(p: Point, b: Box): number {
  const dx = Math.abs(p.x - b.x) - b.width / 2;
  const dy = Math.abs(p.y - b.y) - b.height / 2;
  if (dx <= 0 && dy <= 0) return Math.min(-dx, -dy);
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0));
}

const arrowTip = (arrow: string): Point => {
  const m = /^M(-?[\d.]+),(-?[\d.]+)/.exec(arrow)!;
  return { x: Number(m[1]), y: Number(m[2]) };
};

/** Checks every layout-wide promise: inside the picture, nothing overlaps, every edge joins its two boxes. */
function checkLayout(input: GraphInput, l: GraphLayout) {
  const byId = new Map(l.nodes.map((n) => [n.id, n]));
  expect(l.nodes.map((n) => n.id)).toEqual(input.nodes.map((n) => n.id));
  const labels = l.edges.flatMap((e) => (e.labelBox ? [e.labelBox] : []));
  const boxes = [...l.nodes, ...labels];
  for (const b of boxes) {
    expect(b.x - b.width / 2).toBeGreaterThanOrEqual(0);
    expect(b.y - b.height / 2).toBeGreaterThanOrEqual(0);
    expect(b.x + b.width / 2).toBeLessThanOrEqual(l.width);
    expect(b.y + b.height / 2).toBeLessThanOrEqual(l.height);
  }
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) expect(overlap(boxes[i]!, boxes[j]!), `boxes ${i} and ${j} overlap`).toBe(false);
  expect(l.edges).toHaveLength(input.edges.length);
  l.edges.forEach((e, i) => {
    expect([e.from, e.to]).toEqual([input.edges[i]!.from, input.edges[i]!.to]);
    expect(e.path).toMatch(/^M[\d.,\s C-]+$/);
    // Starts on the border of `from`, and the arrowhead's tip touches the border of `to`.
    expect(toBorder(e.points[0]!, byId.get(e.from)!)).toBeLessThan(0.6);
    expect(toBorder(arrowTip(e.arrow), byId.get(e.to)!)).toBeLessThan(0.6);
    for (const p of e.points) expect(p.x >= 0 && p.y >= 0 && p.x <= l.width && p.y <= l.height).toBe(true);
    if (input.edges[i]!.label) expect(e.labelBox).toBeDefined();
  });
}

/** Proper crossings between the straight segments through each edge's points (a proxy for the drawn curves). */
function segmentCrossings(l: GraphLayout): number {
  const segs = l.edges.flatMap((e, k) => e.points.slice(1).map((p, i) => ({ a: e.points[i]!, b: p, k })));
  const side = (p: Point, q: Point, r: Point) => Math.sign((q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x));
  let n = 0;
  for (let i = 0; i < segs.length; i++)
    for (let j = i + 1; j < segs.length; j++) {
      const s = segs[i]!;
      const t = segs[j]!;
      if (s.k === t.k) continue;
      if (side(s.a, s.b, t.a) * side(s.a, s.b, t.b) < 0 && side(t.a, t.b, s.a) * side(t.a, t.b, s.b) < 0) n++;
    }
  return n;
}

describe('layoutGraph', () => {
  it('draws an empty graph and a single node', () => {
    expect(layoutGraph({ nodes: [], edges: [] })).toMatchObject({ nodes: [], edges: [] });
    const one = layoutGraph({ nodes: [{ id: 'only', label: 'only' }], edges: [] });
    checkLayout({ nodes: [{ id: 'only', label: 'only' }], edges: [] }, one);
    expect(one.nodes[0]!.rank).toBe(0);
  });

  it('keeps DAG dependencies in rank order: every need is above the step that needs it, with no back edge', () => {
    // The last one is a definition's largest DAG, laid out with the reduced effort for big graphs.
    for (const [seed, n, p] of [[1, 5, 0.5], [2, 12, 0.25], [3, 25, 0.12], [4, 40, 0.06], [5, 40, 0.15], [6, 500, 0.012]] as const) {
      const input = randomDag(seed, n, p);
      const l = layoutGraph(input);
      checkLayout(input, l);
      const at = new Map(l.nodes.map((x) => [x.id, x]));
      for (const e of l.edges) {
        expect(e.back).toBe(false);
        expect(at.get(e.to)!.rank).toBeGreaterThan(at.get(e.from)!.rank);
        expect(at.get(e.to)!.y).toBeGreaterThan(at.get(e.from)!.y);
      }
    }
  });

  it('breaks cycles of state machines with back edges drawn upwards into their target, and places all 1 to 40 states apart', () => {
    for (let n = 1; n <= 40; n += 3) {
      const input = randomMachine(n, n);
      const l = layoutGraph(input);
      checkLayout(input, l);
      const at = new Map(l.nodes.map((x) => [x.id, x]));
      for (const e of l.edges.filter((x) => !x.loop)) {
        const [from, to] = [at.get(e.from)!, at.get(e.to)!];
        // Forward edges go down, back edges go up: the arrow always ends at the edge's real target.
        if (e.back) expect(to.rank).toBeLessThan(from.rank);
        else expect(to.rank).toBeGreaterThan(from.rank);
      }
    }
  });

  it('reverses exactly the edge that closes a cycle, keeping the start on top', () => {
    const input: GraphInput = {
      nodes: ['start', 'charge', 'retry', 'done'].map((id) => ({ id, label: id })),
      edges: [
        { from: 'start', to: 'charge', label: 'http' },
        { from: 'charge', to: 'retry', label: 'error' },
        { from: 'retry', to: 'charge', label: 'timeout 5m' },
        { from: 'charge', to: 'done', label: 'ok' },
        { from: 'retry', to: 'start', label: 'give up' },
      ],
    };
    const l = layoutGraph(input);
    checkLayout(input, l);
    expect(l.edges.filter((e) => e.back).map((e) => `${e.from}->${e.to}`)).toEqual(['retry->charge', 'retry->start']);
    expect(l.nodes.map((n) => n.rank)).toEqual([0, 1, 2, 2]);
    // The two edges between charge and retry take separate routes.
    const [down, up] = [l.edges[1]!, l.edges[2]!];
    expect(down.points[1]!.x).not.toBe(up.points[1]!.x);
    expect(l.edges[2]!.className).toBe('');
  });

  it('orders layers so that a tree given in shuffled order is drawn without crossings', () => {
    const r = rng(7);
    const ids = Array.from({ length: 31 }, (_, i) => `n${i}`);
    const edges = ids.slice(1).map((id, i) => ({ from: ids[Math.floor(i / 2)]!, to: id }));
    const input: GraphInput = { nodes: [...ids].sort(() => r() - 0.5).map((id) => ({ id, label: id })), edges: edges.sort(() => r() - 0.5) };
    const l = layoutGraph(input);
    checkLayout(input, l);
    expect(segmentCrossings(l)).toBe(0);
  });

  it('draws a chain of 40 states as one straight column', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const input: GraphInput = { nodes: ids.map((id) => ({ id, label: id })), edges: ids.slice(1).map((id, i) => ({ from: ids[i]!, to: id, label: 'ok' })) };
    const l = layoutGraph(input);
    checkLayout(input, l);
    expect(new Set(l.nodes.map((n) => Math.round(n.x))).size).toBe(1);
    expect(l.nodes.map((n) => n.rank)).toEqual(ids.map((_, i) => i));
  });

  it('draws loops beside their node, labels included, and lays out left to right when asked', () => {
    const input: GraphInput = {
      direction: 'LR',
      nodes: [{ id: 'wait', label: 'wait' }, { id: 'next', label: 'next' }],
      edges: [
        { from: 'wait', to: 'wait', label: 'poll' },
        { from: 'wait', to: 'wait', label: 'tick' },
        { from: 'wait', to: 'next', label: 'callback' },
      ],
    };
    const l = layoutGraph(input);
    checkLayout(input, l);
    expect(l.edges.map((e) => e.loop)).toEqual([true, true, false]);
    const [wait, next] = l.nodes;
    expect(next!.x).toBeGreaterThan(wait!.x);
    expect(Math.round(next!.y)).toBe(Math.round(wait!.y));
  });

  it('shortens long labels on the picture and keeps them whole in the tooltip', () => {
    const long = `s${'y'.repeat(63)}`;
    const l = layoutGraph({ nodes: [{ id: long, label: long, title: 'more' }], edges: [] });
    expect(l.nodes[0]!.label.endsWith('…')).toBe(true);
    expect([...l.nodes[0]!.label]).toHaveLength(32);
    expect(l.nodes[0]!.title).toBe(`${long}\nmore`);
  });

  it('refuses an edge to an unknown node and a repeated node id', () => {
    expect(() => layoutGraph({ nodes: [{ id: 'a', label: 'a' }], edges: [{ from: 'a', to: 'b' }] })).toThrow(/unknown node "b"/);
    expect(() => layoutGraph({ nodes: [{ id: 'a', label: 'a' }, { id: 'a', label: 'a' }], edges: [] })).toThrow(/given twice/);
  });

  it('gives the same picture for the same input', () => {
    const input = randomMachine(11, 20);
    expect(String(GraphSvg({ layout: layoutGraph(input), title: "x" }))).toBe(String(GraphSvg({ layout: layoutGraph(input), title: "x" })));
  });
});

describe('GraphSvg', () => {
  const hostile = '"><script>alert(1)</script><svg onload=alert(2)>&amp;';

  it('escapes every user-given text: ids, labels, sublabels, tooltips, edge labels and the title', () => {
    const l = layoutGraph({
      nodes: [
        { id: hostile, label: hostile, sublabel: hostile, title: hostile },
        { id: 'b', label: 'b' },
      ],
      edges: [{ from: hostile, to: 'b', label: hostile }],
    });
    const svg = String(GraphSvg({ layout: l, title: hostile }));
    expect(svg).not.toMatch(/<script/i);
    expect(svg).not.toMatch(/<svg onload/i);
    // Only the elements the drawing makes: nothing injected.
    expect(new Set([...svg.matchAll(/<([A-Za-z][\w-]*)/g)].map((m) => m[1]))).toEqual(new Set(['svg', 'title', 'g', 'path', 'rect', 'text']));
    expect(svg).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('&amp;amp;');
    // One <svg> element, opened and closed once.
    expect(svg.match(/<svg/g)).toHaveLength(1);
    expect(svg.match(/<\/svg>/g)).toHaveLength(1);
  });

  it('keeps only safe words of class names', () => {
    const l = layoutGraph({ nodes: [{ id: 'a', label: 'a', className: 'current ok" onclick="alert(1) run-paused' }], edges: [] });
    const svg = String(GraphSvg({ layout: l, title: "t" }));
    expect(svg).toContain('class="graph-node box current run-paused"');
    expect(svg).not.toContain('onclick');
  });

  it('draws one element per node and edge, marked with their ids', () => {
    const input = randomMachine(3, 8);
    const svg = String(GraphSvg({ layout: layoutGraph(input), title: "m" }));
    expect(svg.match(/<g class="graph-node[^"]*" data-node=/g)).toHaveLength(8);
    expect(svg.match(/<g class="graph-edge[^"]*" data-from=/g)).toHaveLength(input.edges.length);
    expect(svg.match(/<path class="arrow"/g)).toHaveLength(input.edges.length);
  });
});
