/**
 * TPE's split of the history into the good group (below: builds l(x)) and the rest (above: builds g(x)), as
 * Optuna does it: feasible complete trials first, ranked by value (one objective) or by non-domination rank with
 * a greedy hypervolume tie-break on the last front (several objectives, Ozaki et al.); then pruned trials that
 * reported values; then infeasible trials by total violation (constrained TPE). Running trials (constant liar)
 * and failed trials only ever go above, so a trial that broke is never taken as a good example.
 */
import { nonDominatedFronts } from './dominance.ts';
import type { Observed } from './history.ts';
import { greedyHypervolumeSubset } from './hypervolume.ts';

/** The two groups, each oldest first. */
export interface Split {
  below: Observed[];
  above: Observed[];
}

/** Optuna's reference point for the hypervolume tie-break: 10% beyond the worst loss of each objective. */
function referencePoint(losses: readonly (readonly number[])[]): number[] {
  const m = losses[0]!.length;
  return Array.from({ length: m }, (_, k) => {
    const worst = Math.max(...losses.map((l) => l[k]!));
    const r = Math.max(1.1 * worst, 0.9 * worst);
    return r === 0 ? 1e-12 : r;
  });
}

/** The `nBelow` best of several-objective trials: whole fronts, then a hypervolume subset of the next front. */
function bestMultiObjective(trials: Observed[], nBelow: number): [Observed[], Observed[]] {
  if (nBelow <= 0) return [[], trials];
  if (nBelow >= trials.length) return [trials, []];
  const fronts = nonDominatedFronts(trials.map((t) => ({ loss: t.loss!, violation: 0 })), false, nBelow);
  const below: number[] = [];
  for (const front of fronts) {
    if (below.length + front.length <= nBelow) {
      below.push(...front);
      continue;
    }
    const losses = front.map((i) => trials[i]!.loss!);
    const pick = greedyHypervolumeSubset(losses, nBelow - below.length, referencePoint(trials.map((t) => t.loss!)));
    below.push(...pick.map((p) => front[p]!));
    break;
  }
  const inBelow = new Set(below);
  return [below.map((i) => trials[i]!), trials.filter((_, i) => !inBelow.has(i))];
}

/** Splits the usable history; `nBelow` is the size of the good group (taken from feasible, then pruned, then infeasible trials). */
export function splitTrials(trials: readonly Observed[], nBelow: number, opts: { constantLiar: boolean; failedAsBad: boolean }): Split {
  const complete: Observed[] = [];
  const pruned: Observed[] = [];
  const infeasible: Observed[] = [];
  const above: Observed[] = [];
  for (const t of trials) {
    if (t.state === 'running') {
      if (opts.constantLiar) above.push(t);
    } else if (t.state === 'fail') {
      if (opts.failedAsBad) above.push(t);
    } else if (t.violation > 0) infeasible.push(t);
    else if (t.state === 'complete') complete.push(t);
    else if (t.loss !== null) pruned.push(t);
    else above.push(t);
  }
  const below: Observed[] = [];
  let left = nBelow;
  const take = (group: Observed[], best: (g: Observed[], k: number) => [Observed[], Observed[]]) => {
    const [b, a] = best(group, Math.min(left, group.length));
    below.push(...b);
    above.push(...a);
    left = Math.max(0, left - b.length);
  };
  const byLoss = (g: Observed[], k: number): [Observed[], Observed[]] => {
    const s = [...g].sort((x, y) => x.loss![0]! - y.loss![0]! || x.position - y.position);
    return [s.slice(0, k), s.slice(k)];
  };
  const multi = complete.length > 0 && complete[0]!.loss!.length > 1;
  take(complete, multi ? bestMultiObjective : byLoss);
  take(pruned, multi ? bestMultiObjective : byLoss);
  take(infeasible, (g, k) => {
    const s = [...g].sort((x, y) => x.violation - y.violation || x.position - y.position);
    return [s.slice(0, k), s.slice(k)];
  });
  const byAge = (a: Observed, b: Observed) => a.position - b.position;
  return { below: below.sort(byAge), above: above.sort(byAge) };
}
