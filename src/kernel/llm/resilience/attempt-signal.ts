/** The AbortSignal of one HTTP attempt: fires on the caller's cancel, the overall timeout, or too long a silence. */

/** Why an attempt was aborted. */
export type AbortCause = 'cancelled' | 'overall' | 'idle';

/** Timers of one attempt; `touch()` marks data received, `dispose()` must be called when the attempt ends. */
export interface AttemptSignal {
  signal: AbortSignal;
  /** Why the signal fired, or undefined while it has not. */
  cause(): AbortCause | undefined;
  touch(): void;
  dispose(): void;
}

/** Starts the timers. `idleMs` undefined means no idle limit (a non-streamed call only has the overall one). */
export function attemptSignal(caller: AbortSignal | undefined, overallMs: number, idleMs: number | undefined): AttemptSignal {
  const ctrl = new AbortController();
  let cause: AbortCause | undefined;
  const abort = (c: AbortCause) => {
    if (cause) return;
    cause = c;
    ctrl.abort(new Error(c === 'cancelled' ? 'cancelled' : `${c} timeout`));
  };
  const onCaller = () => abort('cancelled');
  if (caller?.aborted) abort('cancelled');
  else caller?.addEventListener('abort', onCaller, { once: true });
  const overall = setTimeout(() => abort('overall'), overallMs);
  // One timer re-armed only when it fires, rather than cleared and set again on every chunk.
  let last = performance.now();
  let idle: ReturnType<typeof setTimeout> | undefined;
  const armIdle = (ms: number) => {
    idle = setTimeout(() => {
      const silent = performance.now() - last;
      if (silent >= idleMs!) abort('idle');
      else armIdle(idleMs! - silent);
    }, ms);
  };
  if (idleMs !== undefined) armIdle(idleMs);
  return {
    signal: ctrl.signal,
    cause: () => cause,
    touch() {
      last = performance.now();
    },
    dispose() {
      clearTimeout(overall);
      if (idle) clearTimeout(idle);
      caller?.removeEventListener('abort', onCaller);
    },
  };
}
