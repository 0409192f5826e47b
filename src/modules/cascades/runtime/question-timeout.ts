/**
 * What a question nobody answered in time turns into, on resumption: the definition's `on_timeout` decides (the
 * checkpoint row only records which kind it was, so a changed default never needs a migration).
 */
import { parseDuration, type Clock } from '../../../kernel/index.ts';
import type { OnTimeout } from '../model/definition.ts';
import type { HumanCheckpoint } from '../model/session.ts';
import type { ParkedQuestion } from '../store/index.ts';

/** The outcome of a timed-out question: an answer to go on with (null: none), or the reason the session fails. */
export type TimeoutOutcome = { answer: unknown } | { fail: string };

/** Decides what a timed-out question `cpId` does under `onTimeout`. */
export function timeoutOutcome(onTimeout: OnTimeout, cpId: string): TimeoutOutcome {
  if (onTimeout === 'fail') return { fail: `human checkpoint ${cpId} timed out` };
  if (onTimeout === 'continue') return { answer: null };
  return { answer: onTimeout.default };
}

/** The checkpoint row's record of `onTimeout`. */
export function onTimeoutKind(onTimeout: OnTimeout): HumanCheckpoint['onTimeout'] {
  return typeof onTimeout === 'string' ? onTimeout : 'default';
}

/** The question to park on, with its deadline on `clock` when the definition gives a timeout. */
export function parkedQuestion(clock: Clock, q: { id: string; phase: string; prompt: string }, limits: { timeout?: string; on_timeout: OnTimeout } | undefined, path: string): ParkedQuestion {
  const expiresAt = limits?.timeout === undefined ? undefined : new Date(clock.now() + parseDuration(limits.timeout, path));
  return { ...q, onTimeout: onTimeoutKind(limits?.on_timeout ?? 'continue'), expiresAt };
}
