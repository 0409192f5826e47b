/** One BullMQ worker behind the port: group timeouts, progress, bounded shutdown that hands unfinished jobs back. */
import { WaitingError, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { MAX_STALLED_COUNT, type QueueMetricsHooks } from './options.ts';
import type { JobHandler, QueueWorker } from './port.ts';
import { runAttempt, within, WIND_DOWN_MS, WorkerClosingError } from './run-attempt.ts';

/** Everything a BullmqWorker needs. */
export interface BullmqWorkerParams {
  queue: string;
  handler: JobHandler<unknown>;
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** Undefined for the `long` group. */
  timeoutMs: number | undefined;
  stalledIntervalMs: number;
  closeTimeoutMs: number;
  metrics?: QueueMetricsHooks;
  onError(err: Error): void;
  onClosed(worker: BullmqWorker): void;
}

/** A running BullMQ worker. */
export class BullmqWorker implements QueueWorker {
  private readonly worker: Worker;
  private readonly closingAc = new AbortController();
  private readonly abandonAc = new AbortController();
  private readonly active = new Set<Promise<unknown>>();
  private closed?: Promise<void>;

  constructor(private readonly p: BullmqWorkerParams) {
    // The lock is renewed every lockDuration/2 while the process lives; once it lapses, the stalled checker
    // of any live worker on the queue moves the job back to waiting (or fails it after MAX_STALLED_COUNT stalls).
    this.worker = new Worker(p.queue, (job, token) => this.process(job, token), {
      connection: p.connection,
      prefix: p.prefix,
      concurrency: p.concurrency,
      lockDuration: p.stalledIntervalMs,
      stalledInterval: p.stalledIntervalMs,
      maxStalledCount: MAX_STALLED_COUNT,
    });
    this.worker.on('error', (err) => p.onError(err));
    this.worker.on('completed', () => p.metrics?.completed(p.queue));
    this.worker.on('failed', () => p.metrics?.failed(p.queue));
  }

  /** Resolves once the worker's connections are up. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /** Stops taking jobs, lets active ones finish within the grace period, then aborts their signals and hands late jobs back. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    // worker.close() stops fetching at once and resolves when the processors below have returned.
    const closing = this.worker.close();
    closing.catch((err: Error) => this.p.onError(err));
    // In-flight jobs get the whole grace period to finish; only then are they asked to stop.
    if (!(await within(Promise.allSettled(this.active), this.p.closeTimeoutMs))) {
      this.closingAc.abort(new WorkerClosingError());
      await within(Promise.allSettled(this.active), WIND_DOWN_MS);
    }
    this.abandonAc.abort();
    // Recording the outcome needs Redis. If it is down, stop waiting: BullMQ finishes closing when Redis is back,
    // or at once when BullmqQueue.close() drops the shared connection (its pending commands then fail).
    await within(closing, this.p.closeTimeoutMs);
    this.p.onClosed(this);
  }

  private async process(job: BullJob, token?: string): Promise<unknown> {
    let live = true;
    const outcome = runAttempt(
      (signal) =>
        this.p.handler({
          id: String(job.id),
          name: job.name,
          queue: this.p.queue,
          data: job.data,
          attempt: job.attemptsMade + 1,
          traceparent: job.opts.telemetry?.metadata,
          signal,
          // A timed-out attempt may still be running; it must not overwrite the next attempt's progress.
          progress: async (value) => {
            if (live) await job.updateProgress(value);
          },
        }),
      { timeoutMs: this.p.timeoutMs, closing: this.closingAc.signal, abandon: this.abandonAc.signal },
    );
    this.active.add(outcome);
    const o = await outcome.finally(() => this.active.delete(outcome));
    live = false;
    if (o.kind === 'completed') return o.value;
    if (o.kind === 'failed') throw o.error;
    // Interrupted by shutdown: hand the job back without spending an attempt; BullMQ treats WaitingError as "moved".
    if (token) await job.moveToWait(token);
    throw new WaitingError();
  }
}

