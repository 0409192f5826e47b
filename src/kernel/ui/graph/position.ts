/**
 * Coordinates along the layers: each layer is placed, in its fixed order, as close as possible to where its
 * neighbours pull it (the weighted mean of their positions), subject to minimum gaps. That is a weighted isotonic
 * regression, solved exactly by pool-adjacent-violators, so no two boxes of a layer ever overlap. Sweeps alternate
 * down and up, then both ways, until the picture settles.
 */
import type { LayeredGraph, LayerNode, Neighbour } from './layers.ts';
import { LARGE_GRAPH } from './order.ts';

/** Gap between two real nodes of a layer. */
export const NODE_GAP = 28;
/** Gap next to an edge's bend or label. */
export const EDGE_GAP = 12;
const SWEEPS = 6;
// A node with no neighbour on the side a sweep looks at is held where it is, very loosely.
const FREE_WEIGHT = 0.01;

/** The least distance between the centres of two neighbours in a layer. */
function separation(a: LayerNode, b: LayerNode): number {
  const gap = a.kind === 'node' && b.kind === 'node' ? NODE_GAP : EDGE_GAP;
  return a.breadth / 2 + a.after + gap + b.breadth / 2;
}

/** Minimises Σ w(x − target)² over one ordered layer with x[i+1] − x[i] ≥ separation (pool adjacent violators). */
export function placeLayer(targets: readonly number[], weights: readonly number[], gaps: readonly number[]): number[] {
  // With offsets o[i] = Σ gaps before i, y = x − o must be non-decreasing: plain isotonic regression on y.
  const offsets: number[] = [];
  let o = 0;
  for (let i = 0; i < targets.length; i++) {
    if (i > 0) o += gaps[i - 1]!;
    offsets.push(o);
  }
  const blocks: { sum: number; weight: number; count: number }[] = [];
  targets.forEach((t, i) => {
    blocks.push({ sum: (t - offsets[i]!) * weights[i]!, weight: weights[i]!, count: 1 });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1]!;
      const prev = blocks[blocks.length - 2]!;
      if (prev.sum / prev.weight <= last.sum / last.weight) break;
      blocks.pop();
      prev.sum += last.sum;
      prev.weight += last.weight;
      prev.count += last.count;
    }
  });
  const x: number[] = [];
  for (const b of blocks) for (let k = 0; k < b.count; k++) x.push(b.sum / b.weight + offsets[x.length]!);
  return x;
}

/** Positions along the layers (centres, any origin) for an ordering. */
export function positionLayers(g: LayeredGraph, layers: readonly number[][]): number[] {
  const x = new Array<number>(g.nodes.length).fill(0);
  const gapsOf = (layer: readonly number[]) => layer.slice(1).map((id, i) => separation(g.nodes[layer[i]!]!, g.nodes[id]!));
  // Start packed and centred on 0.
  for (const layer of layers) {
    const gaps = gapsOf(layer);
    let at = 0;
    layer.forEach((id, i) => {
      if (i > 0) at += gaps[i - 1]!;
      x[id] = at;
    });
    const shift = at / 2;
    for (const id of layer) x[id]! -= shift;
  }
  const place = (layer: readonly number[], sides: readonly (readonly Neighbour[][])[]) => {
    if (layer.length === 0) return;
    const targets: number[] = [];
    const weights: number[] = [];
    for (const id of layer) {
      let sum = 0;
      let weight = 0;
      for (const side of sides) for (const n of side[id]!) {
        sum += x[n.id]! * n.weight;
        weight += n.weight;
      }
      targets.push(weight > 0 ? sum / weight : x[id]!);
      weights.push(weight > 0 ? weight : FREE_WEIGHT);
    }
    placeLayer(targets, weights, gapsOf(layer)).forEach((v, i) => (x[layer[i]!] = v));
  };
  const ranks = layers.map((_, r) => r);
  for (let s = 0, sweeps = g.nodes.length > LARGE_GRAPH ? 2 : SWEEPS; s < sweeps; s++) {
    for (const r of ranks.slice(1)) place(layers[r]!, [g.up]);
    for (const r of ranks.slice(0, -1).reverse()) place(layers[r]!, [g.down]);
  }
  for (let s = 0; s < 2; s++) for (const r of ranks) place(layers[r]!, [g.up, g.down]);
  return x;
}
