/** Pareto dominance (on losses: smaller is better in every objective), constraint domination and Deb's fast non-dominated sort. */

/** True when a is no worse than b everywhere and better somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let m = 0; m < a.length; m++) {
    if (a[m]! > b[m]!) return false;
    if (a[m]! < b[m]!) better = true;
  }
  return better;
}

/** A point to rank: its losses and its total constraint violation (0 = feasible). */
export interface Ranked {
  loss: readonly number[];
  violation: number;
}

/**
 * Deb's constraint domination: a feasible point beats an infeasible one, of two infeasible points the smaller
 * violation wins, and two feasible points compare by Pareto dominance.
 */
export function constrainedDominates(a: Ranked, b: Ranked): boolean {
  if (a.violation === 0 && b.violation > 0) return true;
  if (a.violation > 0) return b.violation > a.violation;
  return b.violation === 0 && dominates(a.loss, b.loss);
}

/**
 * Deb's fast non-dominated sort (2002): the fronts, best first, as lists of indices into `points`.
 * With `constrained`, constraint domination replaces plain dominance. Stops once `enough` points are ranked.
 */
export function nonDominatedFronts(points: readonly Ranked[], constrained = true, enough = Infinity): number[][] {
  const n = points.length;
  const better = constrained ? constrainedDominates : (a: Ranked, b: Ranked) => dominates(a.loss, b.loss);
  const dominatedBy: number[][] = Array.from({ length: n }, () => []);
  const count = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (better(points[i]!, points[j]!)) {
        dominatedBy[i]!.push(j);
        count[j]!++;
      } else if (better(points[j]!, points[i]!)) {
        dominatedBy[j]!.push(i);
        count[i]!++;
      }
    }
  }
  const fronts: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < n; i++) if (count[i] === 0) current.push(i);
  let ranked = 0;
  while (current.length > 0 && ranked < enough) {
    fronts.push(current);
    ranked += current.length;
    const next: number[] = [];
    for (const i of current) for (const j of dominatedBy[i]!) if (--count[j]! === 0) next.push(j);
    current = next;
  }
  return fronts;
}
