/** Bounded-concurrency loops and completion counters shared by the throughput benchmarks. */

/** Calls `fn(i)` for i in [0, n) with at most `concurrency` calls in flight; rejects on the first failure. */
export async function pipelined(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}

/** Counts arrivals and resolves `done` once `target` arrived; `done` rejects after `timeoutMs` saying how many came. */
export class Countdown {
  count = 0;
  readonly done: Promise<number>;
  private resolve!: (atMs: number) => void;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly target: number, timeoutMs: number, what: string) {
    this.done = new Promise<number>((resolve, reject) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => reject(new Error(`only ${this.count} of ${target} ${what} after ${timeoutMs} ms`)), timeoutMs);
    });
    // A rejected countdown that nobody awaits yet must not crash the process.
    this.done.catch(() => {});
    if (target === 0) this.finish();
  }

  /** Records one arrival. */
  hit(): void {
    if (++this.count === this.target) this.finish();
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.resolve(performance.now());
  }
}
