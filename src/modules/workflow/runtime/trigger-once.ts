/**
 * A trigger with an Idempotency-Key: the first request with a key starts a run and stores the key with it (one
 * statement); a repeat with the same key and body answers that first run instead of starting another, on any instance
 * and in either mode, for 24 hours. The same key with another body is refused (422), naming the header.
 */
import { createHash } from 'node:crypto';
import { CapstanError, Conflict, type Clock } from '../../../kernel/index.ts';
import type { RunRecord } from '../model/run.ts';
import type { RunState } from '../model/run-state.ts';
import { TriggerKeyTaken, type NewTriggerKey, type StoredTriggerKey, type WorkflowStorePort } from '../store/index.ts';

/** How long a key is remembered (the common practice of payment APIs that clients already retry against). */
export const TRIGGER_KEY_TTL_MS = 24 * 3_600_000;

/** What a trigger answers: the run as it was created. */
export interface TriggerAnswer {
  runId: string;
  status: string;
  runState: RunState;
}

/** The answer and whether it was a stored one (the route says so in `Idempotent-Replayed`). */
export interface TriggerOutcome {
  answer: TriggerAnswer;
  replayed: boolean;
}

/** JSON with object keys in sorted order, so the same body hashes the same whatever order its keys were sent in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The hash of a trigger's body as the key is compared on. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonical(body)).digest('hex');
}

/** The 422 of a key reused with another body. */
export class IdempotencyKeyReused extends CapstanError {
  constructor(key: string) {
    super('IdempotencyKeyReused', 422, `Idempotency-Key '${key}' was used with another request body; use a new key for a new request`, {
      errors: [{ path: 'header.idempotency-key', message: 'already used with a different body (keys are kept 24 h)' }],
    });
  }
}

function replay(stored: StoredTriggerKey, key: string, hash: string): TriggerOutcome {
  if (stored.requestHash !== hash) throw new IdempotencyKeyReused(key);
  return { answer: { runId: stored.runId, status: stored.status, runState: stored.runState }, replayed: true };
}

/**
 * Starts a run with `start(key)` unless `key` is stored for `workflow`. A start that fails because a run holds the
 * foreign id or the key was stored meanwhile (a concurrent request with the same key, or this request's own earlier
 * attempt) looks the key up again and answers from it; only a start with no stored key behind it fails.
 */
export async function triggerOnce(
  d: { store: Pick<WorkflowStorePort, 'findTriggerKey'>; clock: Clock; ttlMs?: number },
  workflow: string,
  key: string,
  hash: string,
  start: (key: NewTriggerKey) => Promise<RunRecord>,
): Promise<TriggerOutcome> {
  const before = await d.store.findTriggerKey(workflow, key, d.clock.date());
  if (before) return replay(before, key, hash);
  try {
    const run = await start({ key, requestHash: hash, expiresAt: new Date(d.clock.now() + (d.ttlMs ?? TRIGGER_KEY_TTL_MS)) });
    return { answer: { runId: run.runId, status: run.status, runState: run.runState }, replayed: false };
  } catch (err) {
    if (!(err instanceof Conflict)) throw err;
    const after = await d.store.findTriggerKey(workflow, key, d.clock.date());
    if (after) return replay(after, key, hash);
    if (err instanceof TriggerKeyTaken) throw new Conflict(`Idempotency-Key '${key}' was being used by another request; retry`, { idempotencyKey: key });
    throw err;
  }
}
