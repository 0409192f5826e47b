/** Connecting to a dependency at start: retry with backoff for a bounded time, then fail naming it and its URL (no password). */
import { Unavailable } from '../errors.ts';
import type { Logger } from '../log.ts';
import { redactUrl } from '../redact-url.ts';
import { sleep } from '../time.ts';

/** Calls `connect` until it succeeds or `timeoutMs` has passed; every failure at start counts as transient. */
export async function connectWithRetry<T>(what: string, url: string, connect: () => Promise<T>, opts: { timeoutMs: number; log: Logger }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      const reason = (err as Error).message || String(err);
      if (Date.now() + delay > deadline) {
        throw new Unavailable(`${what} at ${redactUrl(url)} is unreachable after ${attempt} attempts over ${Math.round(opts.timeoutMs / 1000)} s: ${reason}`);
      }
      opts.log.warn({ dependency: what, url: redactUrl(url), attempt, retryInMs: delay, reason }, `${what} unreachable, retrying`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
