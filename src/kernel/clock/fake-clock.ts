/** A clock that moves only when told: `advance(ms)` fires due timers in time order and lets the code they wake run in between. */
import type { Clock, Timer } from './clock.ts';

interface Entry {
  seq: number;
  at: number;
  fn: () => void;
  every?: number;
}

/** Options of a fake clock. */
export interface FakeClockOptions {
  /** Wall-clock start (ms or Date); defaults to the real time at construction, so rows stamped by the database stay comparable. */
  start?: number | Date;
  /** Macrotask turns to yield after each fired timer (and before looking for the next), so awaited work it started can finish. Default 2. */
  settleTurns?: number;
}

/** The fake clock for tests: no real time passes; `advance`/`advanceTo` move it and fire what is due, in order. */
export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private seq = 0;
  private readonly timers = new Map<number, Entry>();
  private readonly settleTurns: number;

  constructor(opts: FakeClockOptions = {}) {
    const start = opts.start ?? Date.now();
    this.wall = typeof start === 'number' ? start : start.getTime();
    this.settleTurns = opts.settleTurns ?? 2;
  }

  now(): number {
    return this.wall;
  }

  date(): Date {
    return new Date(this.wall);
  }

  monotonic(): number {
    return this.mono;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        timer.cancel();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms);
  }

  setInterval(fn: () => void, ms: number): Timer {
    // A zero period would fire forever within one advance, as a real 0 ms interval is clamped to 1 ms.
    return this.add(fn, ms, Math.max(1, ms));
  }

  /** Timers not yet fired or cancelled. */
  pending(): number {
    return this.timers.size;
  }

  /** When the next timer is due (wall ms), if any. */
  nextAt(): number | undefined {
    return this.next(Infinity)?.at;
  }

  /**
   * Moves time forward by `ms`: each timer due within it fires at its own time, earliest first (ties in the order
   * they were set), with the clock reading that time; timers set by the woken code fire too if they fall in range.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance needs a non-negative number of ms, got ${ms}`);
    const target = this.wall + ms;
    await this.settle();
    for (let e = this.next(target); e; e = this.next(target)) {
      this.moveTo(e.at);
      if (e.every === undefined) this.timers.delete(e.seq);
      else this.timers.set(e.seq, { ...e, at: e.at + e.every, seq: e.seq });
      e.fn();
      await this.settle();
    }
    this.moveTo(target);
    await this.settle();
  }

  /** Moves time forward to `at` (no-op if it is past); see `advance`. */
  advanceTo(at: number | Date): Promise<void> {
    const t = typeof at === 'number' ? at : at.getTime();
    return this.advance(Math.max(0, t - this.wall));
  }

  /** Lets woken code run: real macrotask turns, during which no fake time passes. */
  async settle(turns = this.settleTurns): Promise<void> {
    for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
  }

  private add(fn: () => void, ms: number, every?: number): Timer {
    const seq = ++this.seq;
    this.timers.set(seq, { seq, at: this.wall + Math.max(0, ms || 0), fn, every });
    return { cancel: () => void this.timers.delete(seq) };
  }

  private moveTo(t: number): void {
    if (t <= this.wall) return;
    this.mono += t - this.wall;
    this.wall = t;
  }

  private next(limit: number): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.timers.values()) {
      if (e.at > limit) continue;
      if (!best || e.at < best.at || (e.at === best.at && e.seq < best.seq)) best = e;
    }
    return best;
  }
}
