/** A worker of the memory adapter: its concurrency slots, its attempts in flight, its shutdown and its "crash". */
import type { JobHandler, QueueWorker } from './port.ts';
import { within, WIND_DOWN_MS, WorkerClosingError } from './run-attempt.ts';
import type { MemoryJobRecord } from './memory-job-store.ts';

/** What a worker needs from its queue. */
export interface MemoryWorkerHost {
  /** Stops handing jobs to the worker. */
  detach(worker: MemoryWorker): void;
}

/** One worker on one queue; the queue assigns jobs to it while it has a free slot. */
export class MemoryWorker implements QueueWorker {
  /** Attempts in flight, by job; each promise settles once the queue has recorded the outcome. */
  readonly active = new Map<MemoryJobRecord, Promise<void>>();
  state: 'running' | 'closing' | 'closed' | 'crashed' = 'running';
  private readonly closingAc = new AbortController();
  private readonly abandonAc = new AbortController();
  private closed?: Promise<void>;

  constructor(
    private readonly host: MemoryWorkerHost,
    readonly queue: string,
    readonly handler: JobHandler<unknown>,
    readonly concurrency: number,
    readonly timeoutMs: number | undefined,
    private readonly closeTimeoutMs: number,
  ) {}

  /** Aborted when the worker starts closing. */
  get closing(): AbortSignal {
    return this.closingAc.signal;
  }

  /** Aborted when the worker stops waiting for its attempts. */
  get abandon(): AbortSignal {
    return this.abandonAc.signal;
  }

  /** True when the worker can take one more job. */
  get free(): boolean {
    return this.state === 'running' && this.active.size < this.concurrency;
  }

  /** Tracks an attempt until its outcome is recorded. */
  track(rec: MemoryJobRecord, done: Promise<void>): void {
    this.active.set(rec, done);
  }

  /** Frees the attempt's slot; called before the outcome is recorded so that the freed slot can take the next job. */
  release(rec: MemoryJobRecord): void {
    this.active.delete(rec);
  }

  /** Stops taking jobs, aborts the active jobs' signals and waits up to the grace period; late ones are handed back. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'crashed') return;
    this.state = 'closing';
    this.host.detach(this);
    // In-flight jobs get the whole grace period to finish; only then are they asked to stop.
    if (!(await within(Promise.allSettled(this.active.values()), this.closeTimeoutMs))) {
      this.closingAc.abort(new WorkerClosingError());
      await within(Promise.allSettled(this.active.values()), WIND_DOWN_MS);
    }
    this.abandonAc.abort();
    await Promise.allSettled(this.active.values());
    this.state = 'closed';
  }

  /** Simulates the death of the worker: it stops at once and its jobs stay active until stall detection. */
  crash(): MemoryJobRecord[] {
    const jobs = [...this.active.keys()];
    this.state = 'crashed';
    this.host.detach(this);
    // A dead process's handlers stop; aborting lets in-process handlers stop too, and their outcome is ignored.
    this.closingAc.abort(new WorkerClosingError('worker crashed'));
    this.abandonAc.abort();
    this.active.clear();
    return jobs;
  }
}
