/** The cascades module's typed events (`cascades.session.<verb>`); all carry the session id, most the phase. */
import * as z from 'zod';
import { defineEvent } from '../../../kernel/index.ts';

const base = { sessionId: z.string(), cascadeId: z.string() };

/** A session was created and queued. */
export const SessionStarted = defineEvent('cascades.session.started', z.object({ ...base, inputs: z.unknown() }));
/** A phase finished; `next` is the phase that runs next (none when the session is done). */
export const PhaseCompleted = defineEvent('cascades.session.phase', z.object({ ...base, phase: z.string(), next: z.string().nullable(), output: z.unknown() }));
/** The session waits for a person (human checkpoint). */
export const SessionBlocked = defineEvent('cascades.session.blocked', z.object({ ...base, phase: z.string(), checkpointId: z.string(), prompt: z.string() }));
/** The session finished all its phases. */
export const SessionCompleted = defineEvent('cascades.session.completed', z.object({ ...base, outputs: z.unknown(), cost: z.number() }));
/** The session stopped with an error (a blocking ward, a provider failure, a spent budget, too many recoveries). */
export const SessionFailed = defineEvent('cascades.session.failed', z.object({ ...base, phase: z.string().nullable(), reason: z.string() }));
/** The session was cancelled; the worker running it aborts its LLM call on this event. */
export const SessionCancelled = defineEvent('cascades.session.cancelled', z.object({ ...base, reason: z.string().optional() }));
/** A signal (audible) was sent; the worker running it reads it at its next turn. */
export const SessionSignalled = defineEvent('cascades.session.signalled', z.object({ ...base, text: z.string() }));
/** An orphaned session (its worker's heartbeat lapsed) was queued again from its last checkpoint. */
export const SessionRecovered = defineEvent('cascades.session.recovered', z.object({ ...base, attempt: z.number().int(), phase: z.string().nullable() }));
