/**
 * Exact hypervolume of a set of loss vectors (smaller is better) against a reference point: a sweep in 2-D, and
 * Hypervolume by Slicing Objectives (HSO, While et al. 2006) above that, which slices along the last objective
 * and recurses down to the 2-D sweep. HSO is exponential in the number of objectives but exact and quick for the
 * fronts a breeder produces (hundreds of points, 3 or 4 objectives). Points that do not strictly dominate the
 * reference point add nothing.
 */
import { dominates } from './dominance.ts';

/** 2-D: sort by the first objective and add the strip each point contributes below the best second value so far. */
function sweep2d(points: readonly (readonly number[])[], ref: readonly number[]): number {
  const pts = [...points].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let best = ref[1]!;
  let hv = 0;
  for (const p of pts) {
    if (p[1]! < best) {
      hv += (ref[0]! - p[0]!) * (best - p[1]!);
      best = p[1]!;
    }
  }
  return hv;
}

/** The points no other point dominates (duplicates kept once). */
export function nonDominated(points: readonly (readonly number[])[]): (readonly number[])[] {
  const out: (readonly number[])[] = [];
  points.forEach((p, i) => {
    if (points.some((q, j) => j !== i && dominates(q, p))) return;
    if (out.some((q) => q.every((v, k) => v === p[k]))) return;
    out.push(p);
  });
  return out;
}

function hso(points: readonly (readonly number[])[], ref: readonly number[]): number {
  const m = ref.length;
  if (points.length === 0) return 0;
  if (m === 1) return ref[0]! - Math.min(...points.map((p) => p[0]!));
  if (m === 2) return sweep2d(points, ref);
  const last = m - 1;
  const pts = [...points].sort((a, b) => a[last]! - b[last]!);
  const subRef = ref.slice(0, last);
  let hv = 0;
  let slice: (readonly number[])[] = [];
  for (let i = 0; i < pts.length; i++) {
    slice.push(pts[i]!.slice(0, last));
    const top = i + 1 < pts.length ? pts[i + 1]![last]! : ref[last]!;
    const depth = top - pts[i]![last]!;
    if (depth <= 0) continue;
    slice = nonDominated(slice);
    hv += depth * hso(slice, subRef);
  }
  return hv;
}

/** The hypervolume dominated by `points` and bounded by `ref`. */
export function hypervolume(points: readonly (readonly number[])[], ref: readonly number[]): number {
  const inside = points.filter((p) => p.length === ref.length && p.every((v, k) => v < ref[k]!));
  return hso(nonDominated(inside), ref);
}

/**
 * Greedy hypervolume subset selection: `k` indices of `points` picked one at a time, each adding the most
 * hypervolume to those already picked (the tie-break of multi-objective TPE, Ozaki et al.).
 */
export function greedyHypervolumeSubset(points: readonly (readonly number[])[], k: number, ref: readonly number[]): number[] {
  const chosen: number[] = [];
  const left = new Set(points.keys());
  let base = 0;
  while (chosen.length < k && left.size > 0) {
    let best = -1;
    let bestGain = -Infinity;
    for (const i of left) {
      const gain = hypervolume([...chosen.map((c) => points[c]!), points[i]!], ref) - base;
      if (gain > bestGain) {
        bestGain = gain;
        best = i;
      }
    }
    chosen.push(best);
    left.delete(best);
    base += bestGain;
  }
  return chosen;
}
