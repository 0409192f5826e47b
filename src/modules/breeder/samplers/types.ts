/** The sampler contract: what the breeder loop hands a sampler (space, directions, trial history) and what it gets back. */
import type { Params, Space } from '../model/space.ts';

/** Whether an objective is to be made small or large. */
export type Direction = 'minimize' | 'maximize';

/** A trial's state as the samplers see it; `running` trials are the other workers' trials in flight. */
export type TrialState = 'complete' | 'fail' | 'pruned' | 'running';

/**
 * One trial of the history, this breeder's own or a cooperating breeder's.
 * The loop passes the history oldest first (by creation), in the same order after a restart. Records are read as
 * immutable: when a trial changes (running → complete), pass a new record (or at least new `values`).
 */
export interface TrialRecord {
  /** The parameters it ran with. Parameters outside this space are ignored; a trial missing one, or out of range, is dropped. */
  params: Readonly<Record<string, unknown>>;
  /** One value per objective, in the order of the directions; absent or null for failed and running trials. */
  values?: readonly number[] | null | undefined;
  state: TrialState;
  /** Guardrail violations, one per guardrail: ≥ 0, 0 meaning satisfied. Absent or empty means feasible. */
  constraints?: readonly number[] | null | undefined;
}

/** What the sampler knows of the breeder: fixed for the sampler's life. */
export interface SamplingProblem {
  space: Space;
  /** One direction per objective (at least one). */
  directions: readonly Direction[];
}

/** One request for the next parameters. */
export interface SampleRequest {
  /** The whole history (see TrialRecord), including running trials of parallel workers. */
  trials: readonly TrialRecord[];
  /**
   * The number of the trial being sampled: unique within this breeder (0, 1, 2, ...), assigned by the loop.
   * Together with the seed it fixes the random stream, so two workers never draw the same stream and a
   * restarted worker draws the same one again.
   */
  number: number;
}

/** The sampler's answer: parameters to try, or `exhausted` when it has nothing new to propose (grid only). */
export type SampleResult = { kind: 'params'; params: Params } | { kind: 'exhausted' };

/** The sampler names the factory knows. */
export type SamplerName = 'tpe' | 'nsga2' | 'random' | 'qmc' | 'grid';

/**
 * A sampler: a pure function of (problem, seed, options, trials, number). It may cache work between calls
 * for speed, but the cache never changes an answer, so a fresh sampler given the same trials answers the same.
 */
export interface Sampler {
  readonly name: SamplerName;
  sample(request: SampleRequest): SampleResult;
}
