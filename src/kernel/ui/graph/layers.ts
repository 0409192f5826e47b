/**
 * The layered graph the ordering and placement work on: real nodes on even ranks, and every edge cut into unit
 * steps by bend points, one per rank it crosses. A labelled edge's bend on an odd rank carries its label, so labels
 * get their own room between node rows and never sit on a node or on another label.
 */

/** A node of the layered graph. */
export interface LayerNode {
  kind: 'node' | 'bend' | 'label';
  /** The real node's index, or the index of the edge a bend or label belongs to. */
  ref: number;
  rank: number;
  /** Extent along its layer. */
  breadth: number;
  /** Extent across layers. */
  depth: number;
  /** Room kept after the node along its layer (for loops drawn on that side). */
  after: number;
}

/** A neighbour in the next or previous layer, with the pull it has on placement. */
export interface Neighbour {
  id: number;
  weight: number;
}

/** An edge oriented downwards (from the lower rank), with its label's size if it has one. */
export interface OrientedEdge {
  from: number;
  to: number;
  label?: { breadth: number; depth: number };
}

/** Layer nodes by rank, neighbours up and down, and for each edge the ids of its bends from `from` to `to`. */
export interface LayeredGraph {
  nodes: LayerNode[];
  layers: number[][];
  up: Neighbour[][];
  down: Neighbour[][];
  chains: number[][];
}

// Bends pull each other hard so long edges run straight; a real node is pulled less by an edge's first bend.
const BEND_TO_BEND = 8;
const NODE_TO_BEND = 2;

/** Builds the layered graph; `ranks` are even for real nodes and every edge spans at least two ranks. */
export function buildLayers(real: readonly Omit<LayerNode, 'kind' | 'ref' | 'rank'>[], ranks: readonly number[], edges: readonly OrientedEdge[]): LayeredGraph {
  const nodes: LayerNode[] = real.map((r, i) => ({ kind: 'node', ref: i, rank: ranks[i]!, breadth: r.breadth, depth: r.depth, after: r.after }));
  const up: Neighbour[][] = nodes.map(() => []);
  const down: Neighbour[][] = nodes.map(() => []);
  const link = (a: number, b: number) => {
    const weight = nodes[a]!.kind !== 'node' && nodes[b]!.kind !== 'node' ? BEND_TO_BEND : NODE_TO_BEND;
    down[a]!.push({ id: b, weight });
    up[b]!.push({ id: a, weight });
  };
  const chains = edges.map((e, index) => {
    const r0 = ranks[e.from]!;
    const r1 = ranks[e.to]!;
    const middle = (r0 + r1) / 2;
    const labelRank = middle % 2 === 1 ? middle : middle - 1;
    const chain: number[] = [];
    let previous = e.from;
    for (let r = r0 + 1; r < r1; r++) {
      const labelled = e.label !== undefined && r === labelRank;
      const id = nodes.length;
      nodes.push({ kind: labelled ? 'label' : 'bend', ref: index, rank: r, breadth: labelled ? e.label!.breadth : 0, depth: labelled ? e.label!.depth : 0, after: 0 });
      up.push([]);
      down.push([]);
      link(previous, id);
      chain.push(id);
      previous = id;
    }
    link(previous, e.to);
    return chain;
  });
  const layerCount = nodes.reduce((m, n) => Math.max(m, n.rank + 1), 0);
  const layers: number[][] = Array.from({ length: layerCount }, () => []);
  nodes.forEach((n, id) => layers[n.rank]!.push(id));
  return { nodes, layers, up, down, chains };
}
