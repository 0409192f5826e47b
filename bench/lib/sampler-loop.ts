/** Runs a sampler against a function in process, one trial at a time, the way the breeder loop will: sample, evaluate, record. */
import type { Space } from '../../src/modules/breeder/model/space.ts';
import { createSampler } from '../../src/modules/breeder/samplers/index.ts';
import type { Direction, TrialRecord } from '../../src/modules/breeder/samplers/types.ts';

/** Evaluates params to one value per objective. */
export type Objective = (params: Record<string, unknown>) => number[];

/** The history after `n` trials of `config` on `objective`. */
export function optimize(config: unknown, space: Space, directions: Direction[], objective: Objective, n: number): TrialRecord[] {
  const sampler = createSampler(config, { space, directions });
  const trials: TrialRecord[] = [];
  for (let number = 0; number < n; number++) {
    const r = sampler.sample({ trials, number });
    if (r.kind === 'exhausted') break;
    trials.push({ params: r.params, state: 'complete', values: objective(r.params) });
  }
  return trials;
}

/** The smallest first value in a history. */
export function bestValue(trials: readonly TrialRecord[]): number {
  return Math.min(...trials.map((t) => t.values?.[0] ?? Infinity));
}
