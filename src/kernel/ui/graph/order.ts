/**
 * Ordering within layers to reduce edge crossings: a depth-first initial order, then barycenter sweeps down and up
 * with adjacent swaps ("transpose"), keeping the order with the fewest crossings seen.
 */
import type { LayeredGraph, Neighbour } from './layers.ts';

/** Sweeps tried at most; six in a row without improvement end the search earlier. */
const MAX_SWEEPS = 20;
const PATIENCE = 6;
/** Above this many layer nodes (real nodes and bends) the search does less, so a huge graph still draws quickly. */
export const LARGE_GRAPH = 1_500;

/** Crossings between the edges of two adjacent layers (counted with an accumulator tree, O(E log V)). */
function layerCrossings(upper: readonly number[], pos: Int32Array, lowerSize: number, down: readonly Neighbour[][]): number {
  const ends: number[] = [];
  for (const u of upper) {
    const targets = down[u]!.map((n) => pos[n.id]!).sort((a, b) => a - b);
    ends.push(...targets);
  }
  // Counts pairs of edges whose lower ends are out of order (Fenwick tree over lower positions).
  const tree = new Array<number>(lowerSize + 1).fill(0);
  let crossings = 0;
  let seen = 0;
  for (const p of ends) {
    let below = 0;
    for (let i = p + 1; i > 0; i -= i & -i) below += tree[i]!;
    crossings += seen - below;
    for (let i = p + 1; i <= lowerSize; i += i & -i) tree[i]!++;
    seen++;
  }
  return crossings;
}

/** Each node's index within its layer. */
function positions(g: LayeredGraph, layers: readonly number[][]): Int32Array {
  const pos = new Int32Array(g.nodes.length);
  for (const l of layers) l.forEach((id, i) => (pos[id] = i));
  return pos;
}

/** Total crossings of an ordering. */
function countCrossings(g: LayeredGraph, layers: readonly number[][]): number {
  const pos = positions(g, layers);
  let total = 0;
  for (let r = 0; r + 1 < layers.length; r++) total += layerCrossings(layers[r]!, pos, layers[r + 1]!.length, g.down);
  return total;
}

/** Depth-first initial order: nodes met together stay together, which already avoids most crossings. */
function initialOrder(g: LayeredGraph): number[][] {
  const layers: number[][] = g.layers.map(() => []);
  const visited = new Set<number>();
  const visit = (start: number) => {
    const stack = [start];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (visited.has(id)) continue;
      visited.add(id);
      layers[g.nodes[id]!.rank]!.push(id);
      // Reversed so the first successor is visited first.
      for (let i = g.down[id]!.length - 1; i >= 0; i--) stack.push(g.down[id]![i]!.id);
    }
  };
  const byRank = g.nodes.map((_, id) => id).sort((a, b) => g.nodes[a]!.rank - g.nodes[b]!.rank || a - b);
  for (const id of byRank) if (g.up[id]!.length === 0) visit(id);
  for (const id of byRank) visit(id);
  return layers;
}

/**
 * Reorders one layer by the mean position of each node's neighbours; nodes without neighbours keep their place.
 * Ties keep the current order, or reverse it with `biasRight`: alternating the two escapes orders that ties lock in.
 */
function barycenterLayer(layer: number[], neighbours: readonly Neighbour[][], pos: Int32Array, biasRight: boolean): number[] {
  const movable = layer
    .map((id, index) => {
      const ns = neighbours[id]!;
      return { id, index, bary: ns.length === 0 ? undefined : ns.reduce((s, n) => s + pos[n.id]!, 0) / ns.length };
    })
    .filter((m): m is { id: number; index: number; bary: number } => m.bary !== undefined)
    .sort((a, b) => a.bary - b.bary || (biasRight ? b.index - a.index : a.index - b.index));
  let next = 0;
  return layer.map((id) => (neighbours[id]!.length === 0 ? id : movable[next++]!.id));
}

/** Crossings among the edges of `a` and `b` towards one neighbour layer when `a` comes before `b`. */
function pairCrossings(a: number, b: number, neighbours: readonly Neighbour[][], pos: Int32Array): number {
  let c = 0;
  for (const x of neighbours[a]!) for (const y of neighbours[b]!) if (pos[x.id]! > pos[y.id]!) c++;
  return c;
}

/** Swaps adjacent nodes while that removes crossings with both neighbour layers. */
function transpose(g: LayeredGraph, layers: number[][]): void {
  const pos = positions(g, layers);
  const rounds = g.nodes.length > LARGE_GRAPH ? 2 : 8;
  for (let round = 0; round < rounds; round++) {
    let improved = false;
    for (const layer of layers) {
      for (let i = 0; i + 1 < layer.length; i++) {
        const a = layer[i]!;
        const b = layer[i + 1]!;
        const keep = pairCrossings(a, b, g.up, pos) + pairCrossings(a, b, g.down, pos);
        const swap = pairCrossings(b, a, g.up, pos) + pairCrossings(b, a, g.down, pos);
        if (swap < keep) {
          layer[i] = b;
          layer[i + 1] = a;
          pos[a] = i + 1;
          pos[b] = i;
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
}

/** Orders every layer; returns the layers (ids left to right) with the fewest crossings found. */
export function orderLayers(g: LayeredGraph): number[][] {
  let layers = initialOrder(g);
  transpose(g, layers);
  let best = layers.map((l) => [...l]);
  let bestCrossings = countCrossings(g, best);
  let stale = 0;
  const sweeps = g.nodes.length > LARGE_GRAPH ? 4 : MAX_SWEEPS;
  for (let sweep = 0; sweep < sweeps && bestCrossings > 0 && stale < PATIENCE; sweep++) {
    const downwards = sweep % 2 === 0;
    const biasRight = sweep % 4 >= 2;
    const pos = positions(g, layers);
    const ranks = layers.map((_, r) => r);
    for (const r of downwards ? ranks.slice(1) : ranks.slice(0, -1).reverse()) {
      layers[r] = barycenterLayer(layers[r]!, downwards ? g.up : g.down, pos, biasRight);
      layers[r]!.forEach((id, i) => (pos[id] = i));
    }
    transpose(g, layers);
    const crossings = countCrossings(g, layers);
    if (crossings < bestCrossings) {
      best = layers.map((l) => [...l]);
      bestCrossings = crossings;
      stale = 0;
    } else stale++;
    layers = layers.map((l) => [...l]);
  }
  return best;
}
