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
  const below: Observed[] = [];
  let left = nBelow;
  const take = (picked: Observed[]) => {
    for (const t of picked) below.push(t);
    left = Math.max(0, left - picked.length);
  };
  const multi = complete.length > 0 && complete[0]!.loss!.length > 1;
  const best = (g: Observed[]) => (multi ? bestMultiObjective(g, Math.min(left, g.length))[0] : bestByLoss(g, Math.min(left, g.length)));
  take(best(complete));
  take(best(pruned));
  take([...infeasible].sort((x, y) => x.violation - y.violation || x.position - y.position).slice(0, Math.min(left, infeasible.length)));
  // Both groups oldest first: one pass over the history in age order (the history usually is in that order already),
  // walking the good group in the same order alongside (positions are unique), so membership is one comparison.
  const byAge = ordered ? trials : [...trials].sort((a, b) => a.position - b.position);
  below.sort((a, b) => a.position - b.position);
  const split: Split = { below: [], above: [] };
  let next = 0;
  for (let i = 0; i < byAge.length; i++) {
    const t = byAge[i]!;
    if (next < below.length && below[next] === t) {
      split.below.push(t);
      next++;
    } else if (t.state === 'running' ? opts.constantLiar : t.state === 'fail' ? opts.failedAsBad : true) split.above.push(t);
  }
  return split;
}

/** What a splitter remembers of its last split (see createSplitter). */
interface LastSplit {
  trials: readonly Observed[];
  length: number;
  nBelow: number;
  constantLiar: boolean;
  failedAsBad: boolean;
  /** The good group, best first. */
  best: Observed[];
  split: Split;
}

/**
 * splitTrials with a memory, for a sampler that is asked again and again about a growing history: when the
 * observations are the last ones (the very same objects, in age order) plus newer ones appended, the good group is a
 * single objective's best complete feasible trials, and it stays the same size, only the new trials are looked at
 * (the best of the old good group and the new ones, which is the best of all: every other old trial is worse than
 * the whole old group), and the other group is the old one with what left the good group merged back in by age,
 * then the new trials. Anything else (a trial changed or went away, several objectives, a group filled from pruned or
 * infeasible trials) is split from scratch. Same groups, in the same order, either way (tested against splitTrials).
 */
export function createSplitter(): Splitter {
  let last: LastSplit | null = null;
  const remember = (trials: readonly Observed[], nBelow: number, opts: { constantLiar: boolean; failedAsBad: boolean }, split: Split, best: Observed[] | null): Split => {
    last = best ? { trials, length: trials.length, nBelow, constantLiar: opts.constantLiar, failedAsBad: opts.failedAsBad, best, split } : null;
    return split;
  };
  const goesAbove = (t: Observed, opts: { constantLiar: boolean; failedAsBad: boolean }) => (t.state === 'running' ? opts.constantLiar : t.state === 'fail' ? opts.failedAsBad : true);
  /** The good group best first when the full split took it from complete feasible single-objective trials alone (else null: no memory). */
  const simpleBest = (trials: readonly Observed[], split: Split, nBelow: number): Observed[] | null => {
    if (nBelow <= 0 || nBelow > 64 || split.below.length !== nBelow) return null;
    for (let i = 0; i < trials.length; i++) if (i > 0 && trials[i]!.position <= trials[i - 1]!.position) return null;
    for (const t of split.below) if (t.state !== 'complete' || t.violation > 0 || t.loss!.length !== 1) return null;
    return [...split.below].sort(lossThenAge);
  };
  const splitter: Splitter = (trials, nBelow, opts) => {
    const prev: LastSplit | null = last;
    const n = trials.length;
    let appended = prev !== null && prev.nBelow === nBelow && prev.constantLiar === opts.constantLiar && prev.failedAsBad === opts.failedAsBad && n >= prev.length;
    if (appended) {
      const old = prev!.trials;
      for (let i = 0; i < prev!.length; i++) {
        if (trials[i] !== old[i]) {
          appended = false;
          break;
        }
      }
      for (let i = prev!.length; appended && i < n; i++) {
        const t = trials[i]!;
        if (t.position <= trials[i - 1]!.position || (t.state === 'complete' && t.violation === 0 && t.loss !== null && t.loss.length !== 1)) appended = false;
      }
    }
    if (!appended) {
      const split = splitTrials(trials, nBelow, opts);
      return remember(trials, nBelow, opts, split, simpleBest(trials, split, nBelow));
    }
    const p = prev!;
    splitter.remembered++;
    if (n === p.length) return p.split; // the very same history: the very same groups
    const candidates = [...p.best];
    for (let i = p.length; i < n; i++) {
      const t = trials[i]!;
      if (t.state === 'complete' && t.violation === 0) candidates.push(t);
    }
    const best = candidates.length === p.best.length ? p.best : bestByLoss(candidates, nBelow);
    const inBest = (t: Observed) => best.includes(t);
    // Old good trials pushed out, by age, merged into the old other group (which is by age).
    const out = p.best.filter((t) => !inBest(t)).sort((a, b) => a.position - b.position);
    const above: Observed[] = [];
    let o = 0;
    for (const t of p.split.above) {
      while (o < out.length && out[o]!.position < t.position) above.push(out[o++]!);
      above.push(t);
    }
    while (o < out.length) above.push(out[o++]!);
    for (let i = p.length; i < n; i++) {
      const t = trials[i]!;
      if (!inBest(t) && goesAbove(t, opts)) above.push(t);
    }
    const below = best === p.best ? p.split.below : [...best].sort((a, b) => a.position - b.position);
    return remember(trials, nBelow, opts, { below, above }, best);
  };
  splitter.remembered = 0;
  return splitter;
}

/** A remembering split (createSplitter); `remembered` counts the splits made from the last one (for tests). */
export interface Splitter {
  (trials: readonly Observed[], nBelow: number, opts: { constantLiar: boolean; failedAsBad: boolean }): Split;
  remembered: number;
}
