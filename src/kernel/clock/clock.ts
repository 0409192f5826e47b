/** The clock port: every engine, timeout, schedule and lease reads time and sets timers through it, so a test can step time. */
import { sleepUnlessAborted } from '../time.ts';

/** A pending timer; `cancel()` is idempotent and safe after it fired. */
export interface Timer {
  cancel(): void;
}

/** Time as a port (luno's clock is the model): the real one by default, `FakeClock` in tests. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (what `Date.now()` answers). */
  now(): number;
  /** `new Date(now())`. */
  date(): Date;
  /** Milliseconds that never jump with the wall clock; only differences mean anything (durations, lease expiry). */
  monotonic(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Calls `fn` every `ms` until cancelled. */
  setInterval(fn: () => void, ms: number): Timer;
}

/** The real clock: `Date.now`, `performance.now` and the runtime's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  date: () => new Date(),
  monotonic: () => performance.now(),
  sleep(ms, signal) {
    if (!signal) return new Promise((resolve) => setTimeout(resolve, ms));
    return sleepUnlessAborted(ms, signal);
  },
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  },
};
