/** Runs one job attempt under its worker group's timeout and its worker's shutdown, and reports how it ended. */

/** The failure recorded when an attempt outlives its worker group's timeout. */
export class JobTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`job timed out after ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

/** The abort reason a handler sees when its worker is closing. */
export class WorkerClosingError extends Error {
  constructor(message = 'worker is closing') {
    super(message);
    this.name = 'WorkerClosingError';
  }
}

/** How an attempt ended. `interrupted`: the worker shut down first, so the attempt does not count. */
export type AttemptOutcome =
  | { kind: 'completed'; value: unknown }
  | { kind: 'failed'; error: Error }
  | { kind: 'interrupted' };

/** What the worker controls about an attempt. */
export interface AttemptControl {
  /** No timeout when undefined (the `long` group). */
  timeoutMs?: number;
  /** Aborted when the worker's close grace is over: the handler's signal is aborted so it can wind down. */
  closing: AbortSignal;
  /** Aborted when the worker stops waiting (close grace over): the attempt ends as `interrupted`. */
  abandon: AbortSignal;
}

/** Turns anything thrown into an Error, keeping the message. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(typeof err === 'string' ? err : JSON.stringify(err));
}

/** Starts `handler` with a signal aborted on timeout or shutdown; the promise settles with the outcome, never rejects. */
export function runAttempt(handler: (signal: AbortSignal) => Promise<unknown>, ctl: AttemptControl): Promise<AttemptOutcome> {
  const ac = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onClosing: (() => void) | undefined;
  let onAbandon: (() => void) | undefined;
  const outcome = new Promise<AttemptOutcome>((resolve) => {
    onClosing = () => ac.abort(new WorkerClosingError());
    onAbandon = () => resolve({ kind: 'interrupted' });
    if (ctl.closing.aborted) onClosing();
    else ctl.closing.addEventListener('abort', onClosing, { once: true });
    if (ctl.abandon.aborted) onAbandon();
    else ctl.abandon.addEventListener('abort', onAbandon, { once: true });
    if (ctl.timeoutMs !== undefined) {
      const ms = ctl.timeoutMs;
      timer = setTimeout(() => {
        const err = new JobTimeoutError(ms);
        ac.abort(err);
        resolve({ kind: 'failed', error: err });
      }, ms);
    }
    // Called from a then() so a synchronous throw becomes a failed attempt too.
    Promise.resolve()
      .then(() => handler(ac.signal))
      .then(
        (value) => resolve({ kind: 'completed', value }),
        (err) => resolve(ac.signal.reason instanceof WorkerClosingError ? { kind: 'interrupted' } : { kind: 'failed', error: toError(err) }),
      );
  });
  return outcome.finally(() => {
    clearTimeout(timer);
    if (onClosing) ctl.closing.removeEventListener('abort', onClosing);
    if (onAbandon) ctl.abandon.removeEventListener('abort', onAbandon);
  });
}

/** After the grace period, handlers are asked to stop (signal aborted) and get this long to wind down. */
export const WIND_DOWN_MS = 1_000;

/** Resolves true if `p` settles within `ms`, false otherwise; never rejects. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
