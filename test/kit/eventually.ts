/** Polling and pausing for tests, defined once: `eventually` replaces hand-written deadline loops, `sleep` every local copy. */

/** Options of `eventually`. */
export interface EventuallyOptions {
  /** Give up after this long (real ms). Default 20 s. */
  timeout?: number;
  /** Pause between tries (real ms). Default 50. */
  interval?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/** Resolves after `ms` real milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Calls `fn` until it returns something other than undefined/false without throwing, and resolves with that; after
 * `timeout` it fails with the last error (an `expect` inside `fn` reports its own message) or with `what`.
 */
export async function eventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<Exclude<T, undefined | false>> {
  const timeout = opts.timeout ?? 20_000;
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as Exclude<T, undefined | false>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      if (last instanceof Error) throw Object.assign(last, { message: `never happened within ${timeout} ms${opts.what ? ` (${opts.what})` : ''}: ${last.message}` });
      throw new Error(`never happened within ${timeout} ms: ${opts.what ?? 'condition'}`);
    }
    await sleep(opts.interval ?? 50);
  }
}
