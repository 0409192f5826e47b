/** The store's row types as the rest of the module sees them (timestamps as ISO strings). */
import type { Definition } from '../model/definition.ts';
import type { BreederStatus } from './schema.ts';

/** A breeder as stored. */
export interface BreederRow {
  id: string;
  name: string;
  definition: Definition;
  status: BreederStatus;
  generation: number;
  nextNumber: number;
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A trial's state. */
export type TrialRowState = 'running' | 'complete' | 'fail' | 'pruned';

/** A trial as stored. */
export interface TrialRow {
  breederId: string;
  number: number;
  state: TrialRowState;
  params: Record<string, unknown>;
  values: (number | null)[] | null;
  observations: Record<string, number | null> | null;
  constraints: number[] | null;
  error: string | null;
  slot: number;
  generation: number;
  worker: string;
  durations: Record<string, number> | null;
  createdAt: string;
  finishedAt: string | null;
}

/** What the loop records when a trial ends. */
export interface TrialOutcome {
  state: 'complete' | 'fail' | 'pruned';
  values: (number | null)[] | null;
  observations: Record<string, number | null> | null;
  constraints: number[] | null;
  error: string | null;
  durations: Record<string, number>;
}

export { iso } from '../../../kernel/index.ts';
