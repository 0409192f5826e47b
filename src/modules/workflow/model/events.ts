/** The events the workflow module publishes, typed once for its publishers and every consumer (other modules too). */
import * as z from 'zod';
import { defineEvent, type EventEnvelope, type Invalid, type Logger } from '../../../kernel/index.ts';

/** What every run event carries: the run as it is after the change. */
const RunSummary = z.object({
  runId: z.string(),
  workflow: z.string(),
  foreignId: z.string(),
  status: z.string(),
  runState: z.string(),
  version: z.number().int(),
});

/** A run was created (written by the store with the run, through the outbox). */
export const RunCreated = defineEvent('workflow.run.created', RunSummary);
/** A run reached a status (or the same status at a new version); subject `<type>.<workflow>.<status>` (statusRoute). */
export const RunStatusChanged = defineEvent('workflow.run.status_changed', RunSummary.extend({ previousStatus: z.string().nullable() }));
/** A run reached a terminal status. */
export const RunCompleted = defineEvent('workflow.run.completed', RunSummary);
/** A run was paused (by an operator or after too many step errors). */
export const RunPaused = defineEvent('workflow.run.paused', RunSummary.extend({ reason: z.string().nullable() }));
/** A run was cancelled. */
export const RunCancelled = defineEvent('workflow.run.cancelled', RunSummary.extend({ reason: z.string().nullable() }));
/** A definition was saved; other instances reload it. */
export const DefinitionApplied = defineEvent('workflow.definition.applied', z.object({ name: z.string(), version: z.number().int() }));

/** The consumers' policy for an event whose data does not match its schema: log it and move on (it would never match). */
export function ignoreMalformed(log: Logger) {
  return (event: EventEnvelope, err: Invalid): void => log.warn({ eventId: event.id, type: event.type, issues: err.issues }, 'malformed event ignored');
}
