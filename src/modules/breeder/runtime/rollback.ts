/**
 * Rollback after consecutive failures (counted per worker slot, so parallel workers do not blur each other's
 * streaks): applies the previous complete trial's, the best trial's or the baseline parameters to the target.
 */
import type { Definition } from '../model/definition.ts';
import type { Params } from '../model/space.ts';
import { bestTrial } from '../samplers/index.ts';
import type { TrialRow } from '../store/index.ts';
import { effectuate, type EffectuationPolicy } from './effectuate.ts';
import { toRecord } from './loop-records.ts';

/** The parameters a rollback goes back to, or null when there is none (no complete trial yet). */
export function rollbackParams(def: Definition, history: readonly TrialRow[]): Params | null {
  const rb = def.rollback!;
  if (rb.to === 'baseline') return rb.baseline as Params;
  if (rb.to === 'previous') {
    const last = [...history].reverse().find((t) => t.state === 'complete');
    return last ? (last.params as Params) : null;
  }
  const i = bestTrial(history.map(toRecord), def.objectives[0]!.direction);
  return i === null ? null : (history[i]!.params as Params);
}

/** Applies the rollback parameters; returns them (null when there were none to apply). */
export async function rollBack(def: Definition, history: readonly TrialRow[], breeder: { id: string; name: string }, policy: EffectuationPolicy, signal: AbortSignal): Promise<Params | null> {
  const params = rollbackParams(def, history);
  if (params) await effectuate(def.effectuation, { params, trial: { number: -1 }, breeder }, policy, signal);
  return params;
}
