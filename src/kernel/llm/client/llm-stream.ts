/** The LlmStream object: pieces are queued as they arrive and handed to the caller's `for await`; `result` settles at the end. */
import type { ChatResult, LlmStream, StreamEvent } from '../model/request.ts';

/** Starts `run` at once (it reads the stream whether or not anyone iterates) and wraps it as an LlmStream. */
export function createLlmStream<T>(run: (emit: (events: StreamEvent[]) => void, signal: AbortSignal) => Promise<ChatResult<T>>, callerSignal: AbortSignal | undefined): LlmStream<T> {
  // Our own controller lets a caller that leaves the loop early cancel the call.
  const ctrl = new AbortController();
  const signal = callerSignal ? AbortSignal.any([callerSignal, ctrl.signal]) : ctrl.signal;
  const queue: StreamEvent[] = [];
  let done = false;
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const result = run((events) => {
    queue.push(...events);
    notify();
  }, signal).then(
    (r) => {
      done = true;
      notify();
      return r;
    },
    (err: unknown) => {
      done = true;
      failure = { err };
      notify();
      throw err;
    },
  );
  // Nobody has to await `result`: a caller who only iterates gets the error from the loop instead.
  result.catch(() => {});
  let iterating = false;
  return {
    result,
    [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
      if (iterating) throw new Error('an LlmStream can be iterated once');
      iterating = true;
      let read = 0;
      return {
        async next(): Promise<IteratorResult<StreamEvent>> {
          for (;;) {
            if (read < queue.length) {
              const value = queue[read++]!;
              // Drop what was handed over now and then, so a long stream does not keep every piece.
              if (read > 1024) {
                queue.splice(0, read);
                read = 0;
              }
              return { value, done: false };
            }
            if (failure) throw failure.err;
            if (done) return { value: undefined, done: true };
            await new Promise<void>((r) => (wake = r));
          }
        },
        async return(): Promise<IteratorResult<StreamEvent>> {
          if (!done) ctrl.abort(new Error('stream left early'));
          return { value: undefined, done: true };
        },
      };
    },
  };
}
