/** The one place that decides what is transient and retries it with exponential backoff. */
import { sleep } from './time.ts';

const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57']);
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);

/** True for failures worth retrying: Postgres SQLSTATE classes 08/40/53/57, connection errors, HTTP 429/5xx. */
export function isTransient(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; status?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(e.code) && TRANSIENT_SQLSTATE_CLASSES.has(e.code.slice(0, 2))) return true;
    if (TRANSIENT_NODE_CODES.has(e.code)) return true;
  }
  if (typeof e.status === 'number' && (e.status === 429 || e.status >= 500)) return true;
  if (typeof e.message === 'string' && /Connection is closed|CONNECTION_REFUSED|ECONNREFUSED|ECONNRESET|closed connection|Connection terminated/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err ? isTransient(e.cause) : false;
}

/** Options for `retry`. */
export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Which errors to retry; default `isTransient`. */
  retryIf?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn`, retrying transient failures with exponential backoff and full jitter; rethrows the rest at once. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 50;
  const max = opts.maxDelayMs ?? 5_000;
  const retryIf = opts.retryIf ?? isTransient;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !retryIf(err)) throw err;
      const delay = Math.round(Math.random() * Math.min(max, base * 2 ** (attempt - 1)));
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
