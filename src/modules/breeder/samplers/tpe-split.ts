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

/** Orders trials by first loss, then by age. */
const lossThenAge = (x: Observed, y: Observed) => x.loss![0]! - y.loss![0]! || x.position - y.position;

/**
 * The `k` best of one objective by `lossThenAge`, best first. A small `k` (TPE's good group is a few dozen of
 * possibly thousands of trials) keeps a sorted buffer of the best so far instead of sorting everything: most trials
 * lose one comparison against the buffer's worst.
 */
function bestByLoss(g: Observed[], k: number): Observed[] {
  if (k <= 0) return [];
  if (k > 64 || k >= g.length) return [...g].sort(lossThenAge).slice(0, k);
  const best: Observed[] = [];
  for (const t of g) {
    if (best.length === k && lossThenAge(t, best[k - 1]!) >= 0) continue;
    let i = best.length === k ? k - 1 : best.length;
    while (i > 0 && lossThenAge(t, best[i - 1]!) < 0) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = t;
  }
  return best;
}

/** Splits the usable history; `nBelow` is the size of the good group (taken from feasible, then pruned, then infeasible trials). */
export function splitTrials(trials: readonly Observed[], nBelow: number, opts: { constantLiar: boolean; failedAsBad: boolean }): Split {
  const complete: Observed[] = [];
  const pruned: Observed[] = [];
  const infeasible: Observed[] = [];
  let ordered = true;
  for (let i = 0; i < trials.length; i++) {
    const t = trials[i]!;
    if (i > 0 && t.position <= trials[i - 1]!.position) ordered = false;
    if (t.state === 'running' || t.state === 'fail') continue;
    if (t.violation > 0) infeasible.push(t);
    else if (t.state === 'complete') complete.push(t);
    else if (t.loss !== null) pruned.push(t);
  }
  const below = new Set<Observed>();
  let left = nBelow;
  const take = (picked: Observed[]) => {
    for (const t of picked) below.add(t);
    left = Math.max(0, left - picked.length);
  };
  const multi = complete.length > 0 && complete[0]!.loss!.length > 1;
  const best = (g: Observed[]) => (multi ? bestMultiObjective(g, Math.min(left, g.length))[0] : bestByLoss(g, Math.min(left, g.length)));
  take(best(complete));
  take(best(pruned));
  take([...infeasible].sort((x, y) => x.violation - y.violation || x.position - y.position).slice(0, Math.min(left, infeasible.length)));
  // Both groups oldest first: one pass over the history in age order (the history usually is in that order already).
  const byAge = ordered ? trials : [...trials].sort((a, b) => a.position - b.position);
  const split: Split = { below: [], above: [] };
  for (const t of byAge) {
    if (below.has(t)) split.below.push(t);
    else if (t.state === 'running' ? opts.constantLiar : t.state === 'fail' ? opts.failedAsBad : true) split.above.push(t);
  }
  return split;
}
