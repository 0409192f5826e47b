/** The breeder module's events, defined once for publisher and consumers. */
import * as z from 'zod';
import { defineEvent } from '../../../kernel/index.ts';

const breederRef = { breederId: z.string(), name: z.string() };
const trialData = z.object({
  ...breederRef,
  number: z.number().int(),
  params: z.record(z.string(), z.unknown()),
  values: z.array(z.number().nullable()).nullable(),
  observations: z.record(z.string(), z.number().nullable()).nullable(),
  error: z.string().nullable(),
});

/** A trial finished with values for every objective and within every guardrail. */
export const TrialCompleted = defineEvent('breeder.trial.completed', trialData);
/** A trial failed: effectuation or reconnaissance error, guardrail violation, or abandoned by a dead worker. */
export const TrialFailed = defineEvent('breeder.trial.failed', trialData);
/** A breeder was started (again). */
export const BreederStarted = defineEvent('breeder.breeder.started', z.object({ ...breederRef, generation: z.number().int() }));
/** A breeder was stopped by a user. */
export const BreederStopped = defineEvent('breeder.breeder.stopped', z.object({ ...breederRef }));
/** A breeder completed: max_trials, max_duration or quality achieved. */
export const BreederCompleted = defineEvent('breeder.breeder.completed', z.object({ ...breederRef, reason: z.enum(['max_trials', 'max_duration', 'quality', 'exhausted']) }));
/** A breeder could not go on: its sampler could not be built or threw (the reason says which); status `failed`. */
export const BreederFailed = defineEvent('breeder.breeder.failed', z.object({ ...breederRef, reason: z.string() }));
/** Why a breeder completed. */
export type CompletionReason = z.output<typeof BreederCompleted.schema>['reason'];
