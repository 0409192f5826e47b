/**
 * What a breeder reports as its result: the best trial (one objective) or the Pareto front (several), over
 * complete trials with valid values that meet every guardrail. Failed, pruned and running trials never count.
 */
import { dominates } from './dominance.ts';
import { lossOf, violationOf } from './history.ts';
import type { Direction, TrialRecord } from './types.ts';

/** Indices (into `trials`) of complete, feasible trials with valid values, with their losses. */
function candidates(trials: readonly TrialRecord[], directions: readonly Direction[]): { index: number; loss: number[] }[] {
  const out: { index: number; loss: number[] }[] = [];
  trials.forEach((t, index) => {
    if (t.state !== 'complete' || violationOf(t.constraints) > 0) return;
    const loss = lossOf(t.values, directions);
    if (loss) out.push({ index, loss });
  });
  return out;
}

/**
 * Index of the best feasible complete trial by the first objective (the oldest on ties), or null when there is
 * none. Trials of a breeder with several objectives carry several values: only the first is compared.
 */
export function bestTrial(trials: readonly TrialRecord[], direction: Direction): number | null {
  let best: { index: number; loss: number[] } | null = null;
  const first = trials.map((t) => (t.values && t.values.length > 1 ? { ...t, values: t.values.slice(0, 1) } : t));
  for (const c of candidates(first, [direction])) if (best === null || c.loss[0]! < best.loss[0]!) best = c;
  return best?.index ?? null;
}

/** Indices of the feasible complete trials no other such trial dominates, in history order (equal points all kept). */
export function paretoFront(trials: readonly TrialRecord[], directions: readonly Direction[]): number[] {
  const c = candidates(trials, directions);
  return c.filter((a) => !c.some((b) => dominates(b.loss, a.loss))).map((a) => a.index);
}
