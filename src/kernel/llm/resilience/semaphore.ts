/** A per-provider concurrency limit: at most `limit` holders, later callers wait in line (first come, first served). */

/** Releases a slot; calling it twice releases once. */
export type Release = () => void;

/** Counting semaphore with a FIFO queue; a waiter whose signal aborts leaves the line without taking a slot. */
export class Semaphore {
  #active = 0;
  readonly #queue: { grant: (r: Release) => void }[] = [];

  /** `onChange` runs whenever the number of holders or waiters changes (it feeds the gauges). */
  constructor(readonly limit: number, private readonly onChange: () => void = () => {}) {}

  /** Callers holding a slot now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot now. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Waits for a slot; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.limit) {
      this.#active++;
      this.onChange();
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: (r: Release) => {
          signal?.removeEventListener('abort', onAbort);
          this.onChange();
          resolve(r);
        },
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(entry);
        if (i >= 0) this.#queue.splice(i, 1);
        this.onChange();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(entry);
      this.onChange();
    });
  }

  #releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      // Hand the slot straight to the next waiter so that a newcomer cannot overtake the line.
      const next = this.#queue.shift();
      if (next) next.grant(this.#releaser());
      else {
        this.#active--;
        this.onChange();
      }
    };
  }
}
