/** Stored trials as the samplers see them. */
import type { TrialRecord } from '../samplers/index.ts';
import type { TrialRow } from '../store/index.ts';

/** A stored trial as the samplers see it. */
export function toRecord(t: TrialRow): TrialRecord {
  return { params: t.params, values: t.values as number[] | null, state: t.state, constraints: t.constraints };
}
