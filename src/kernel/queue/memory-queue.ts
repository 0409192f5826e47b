/** The single-process JobQueue: timers for delays and backoff, notification (not polling) to hand jobs to workers. */
import { Conflict, Invalid, NotFound, Unavailable } from '../errors.ts';
import { newId } from '../ids.ts';
import { MemoryJobStore, memoryJobInfo, type MemoryJobRecord } from './memory-job-store.ts';
import { MemoryWorker, type MemoryWorkerHost } from './memory-worker.ts';
import { groupTimeoutMs, MAX_STALLED_COUNT, queueSettings, type QueueAdapterOptions, type QueueSettings } from './options.ts';
import type { JobHandler, JobInfo, JobOptions, JobQueue, QueueCounts, QueueWorker, WorkerOptions } from './port.ts';
import { runAttempt, type AttemptOutcome } from './run-attempt.ts';
import { backoffDelayMs, normalizeBulk, normalizeWorker, validateQueueName } from './validate.ts';

/** Options of the memory adapter. */
export type MemoryQueueOptions = QueueAdapterOptions;

interface QueueState {
  name: string;
  store: MemoryJobStore;
  workers: MemoryWorker[];
  /** Round-robin position, so that several workers share the jobs. */
  next: number;
  pumpScheduled: boolean;
}

// Jobs cross the port as JSON in the Redis adapter; copying the same way keeps both adapters alike.
function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** JobQueue in one process's memory; for embedded mode and tests. */
export class MemoryQueue implements JobQueue, MemoryWorkerHost {
  private readonly settings: QueueSettings;
  private readonly queues = new Map<string, QueueState>();
  private seq = 0;
  private closed = false;

  constructor(opts: MemoryQueueOptions = {}) {
    this.settings = queueSettings(opts);
  }

  /** Adds one job. */
  async add<T>(queue: string, name: string, data: T, opts?: JobOptions): Promise<{ id: string }> {
    const [added] = await this.addBulk(queue, [{ name, data, opts }]);
    return added!;
  }

  /** Adds jobs; all are validated before any is added. */
  async addBulk<T>(queue: string, jobs: { name: string; data: T; opts?: JobOptions }[]): Promise<{ id: string }[]> {
    this.assertOpen();
    const normalized = normalizeBulk(queue, jobs).map((j) => ({ ...j, opts: j.normalized }));
    const q = this.state(queue, true)!;
    const ids = normalized.map(({ name, data, opts }) => {
      const existing = opts.jobId === undefined ? undefined : q.store.jobs.get(opts.jobId);
      if (existing) return { id: existing.id };
      const rec: MemoryJobRecord = {
        id: opts.jobId ?? newId(),
        name,
        queue,
        data: jsonCopy(data),
        opts,
        state: 'waiting',
        attemptsMade: 0,
        stalledCount: 0,
        progress: 0,
        createdAt: Date.now(),
        seq: this.seq++,
      };
      q.store.jobs.set(rec.id, rec);
      if (opts.delayMs > 0) this.delay(q, rec, opts.delayMs);
      else q.store.enqueue(rec);
      return { id: rec.id };
    });
    this.schedulePump(q);
    return ids;
  }

  /** Starts a worker; it is handed jobs as they become ready. */
  async work<T>(queue: string, handler: JobHandler<T>, opts?: WorkerOptions): Promise<QueueWorker> {
    this.assertOpen();
    validateQueueName(queue);
    const { concurrency, group } = normalizeWorker(opts);
    const q = this.state(queue, true)!;
    const timeout = groupTimeoutMs(this.settings, group);
    const worker = new MemoryWorker(this, queue, handler as JobHandler<unknown>, concurrency, timeout, this.settings.closeTimeoutMs);
    q.workers.push(worker);
    this.schedulePump(q);
    return worker;
  }

  /** A job's snapshot, or undefined. */
  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    const rec = this.state(queue, false)?.store.jobs.get(id);
    return rec && memoryJobInfo(rec);
  }

  /** Jobs per state. */
  async counts(queue: string): Promise<QueueCounts> {
    return this.state(queue, false)?.store.counts() ?? { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };
  }

  /** Failed jobs, newest first. */
  async listFailed(queue: string, opts: { offset?: number; limit?: number } = {}): Promise<JobInfo[]> {
    const store = this.state(queue, false)?.store;
    return store ? store.failedNewestFirst(opts.offset ?? 0, opts.limit ?? 100).map(memoryJobInfo) : [];
  }

  /** Moves a failed job back to waiting with its attempts reset. */
  async retry(queue: string, id: string): Promise<void> {
    const q = this.state(queue, false);
    const rec = q?.store.jobs.get(id);
    if (!q || !rec) throw new NotFound(`job ${id} in queue ${queue}`);
    if (rec.state !== 'failed') throw new Conflict(`job ${id} is ${rec.state}, only failed jobs can be retried`, { state: rec.state });
    q.store.unfail(rec);
    rec.attemptsMade = 0;
    rec.stalledCount = 0;
    rec.failedReason = undefined;
    rec.seq = this.seq++;
    q.store.enqueue(rec);
    this.schedulePump(q);
  }

  /** Deletes a job that is not active. */
  async remove(queue: string, id: string): Promise<void> {
    const q = this.state(queue, false);
    const rec = q?.store.jobs.get(id);
    if (!q || !rec) throw new NotFound(`job ${id} in queue ${queue}`);
    if (rec.state === 'active') throw new Conflict(`job ${id} is active and cannot be removed`, { state: rec.state });
    clearTimeout(rec.timer);
    q.store.forget(rec);
  }

  /** Queues that jobs were added to or workers started on. */
  knownQueues(): string[] {
    return [...this.queues.keys()];
  }

  /** Always reachable while open. */
  async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Closes every worker (bounded) and cancels pending timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.queues.values()].flatMap((q) => q.workers.map((w) => w.close())));
    for (const q of this.queues.values()) for (const rec of q.store.jobs.values()) clearTimeout(rec.timer);
  }

  /**
   * Test hook: kills `worker` as a process crash would. Its jobs stay active until stall detection
   * (after `stalledIntervalMs`) hands them to another worker, or fails them after repeated stalls.
   */
  abandonWorker(worker: QueueWorker): void {
    if (!(worker instanceof MemoryWorker)) throw new Invalid('not a worker of this queue');
    const q = this.queues.get(worker.queue);
    for (const rec of worker.crash()) {
      if (!q || rec.owner !== worker || rec.state !== 'active') continue;
      rec.run = undefined;
      rec.timer = setTimeout(() => this.recoverStalled(q, rec, worker), this.settings.stalledIntervalMs);
    }
  }

  /** Part of MemoryWorkerHost: stops handing jobs to a closing or crashed worker. */
  detach(worker: MemoryWorker): void {
    const q = this.queues.get(worker.queue);
    if (q) q.workers = q.workers.filter((w) => w !== worker);
  }

  private state(queue: string, create: boolean): QueueState | undefined {
    let q = this.queues.get(queue);
    if (!q && create) {
      q = { name: queue, store: new MemoryJobStore(), workers: [], next: 0, pumpScheduled: false };
      this.queues.set(queue, q);
    }
    return q;
  }

  private assertOpen(): void {
    if (this.closed) throw new Unavailable('job queue is closed');
  }

  private delay(q: QueueState, rec: MemoryJobRecord, ms: number): void {
    rec.state = 'delayed';
    rec.timer = setTimeout(() => {
      rec.timer = undefined;
      q.store.enqueue(rec);
      this.schedulePump(q);
    }, ms);
  }

  // Coalesces the many wake-ups of one tick (a bulk add, several settles) into one hand-out pass.
  private schedulePump(q: QueueState): void {
    if (q.pumpScheduled || this.closed) return;
    q.pumpScheduled = true;
    queueMicrotask(() => {
      q.pumpScheduled = false;
      this.pump(q);
    });
  }

  private pump(q: QueueState): void {
    while (q.store.hasWaiting()) {
      const worker = this.freeWorker(q);
      if (!worker) return;
      this.start(q, worker, q.store.takeNext()!);
    }
  }

  private freeWorker(q: QueueState): MemoryWorker | undefined {
    for (let i = 0; i < q.workers.length; i++) {
      const w = q.workers[(q.next + i) % q.workers.length]!;
      if (w.free) {
        q.next = (q.next + i + 1) % q.workers.length;
        return w;
      }
    }
    return undefined;
  }

  private start(q: QueueState, worker: MemoryWorker, rec: MemoryJobRecord): void {
    const run = {};
    rec.state = 'active';
    rec.run = run;
    rec.owner = worker;
    const outcome = runAttempt(
      (signal) =>
        worker.handler({
          id: rec.id,
          name: rec.name,
          queue: rec.queue,
          data: structuredClone(rec.data),
          attempt: rec.attemptsMade + 1,
          traceparent: rec.opts.traceparent,
          signal,
          // A timed-out or abandoned attempt may still be running; it must not overwrite the next attempt's progress.
          progress: async (value) => {
            if (rec.run === run) rec.progress = jsonCopy(value);
          },
        }),
      { timeoutMs: worker.timeoutMs, closing: worker.closing, abandon: worker.abandon },
    );
    worker.track(
      rec,
      outcome.then((o) => {
        worker.release(rec);
        if (rec.run !== run || worker.state === 'crashed') return;
        this.settle(q, rec, o);
        this.schedulePump(q);
      }),
    );
  }

  private settle(q: QueueState, rec: MemoryJobRecord, o: AttemptOutcome): void {
    rec.run = undefined;
    rec.owner = undefined;
    if (o.kind === 'interrupted') {
      q.store.enqueue(rec);
      return;
    }
    rec.attemptsMade++;
    if (o.kind === 'completed') {
      rec.returnValue = jsonCopy(o.value);
      q.store.finish(rec, 'completed', this.settings.keepCompleted);
      this.settings.metrics?.completed(q.name);
      return;
    }
    rec.failedReason = o.error.message;
    this.settings.metrics?.failed(q.name);
    this.failOrRetry(q, rec);
  }

  private failOrRetry(q: QueueState, rec: MemoryJobRecord): void {
    if (rec.attemptsMade >= rec.opts.attempts) {
      q.store.finish(rec, 'failed', this.settings.keepFailed);
      return;
    }
    rec.seq = this.seq++;
    const wait = backoffDelayMs(rec.opts.backoff, rec.attemptsMade);
    if (wait > 0) this.delay(q, rec, wait);
    else q.store.enqueue(rec);
  }

  private recoverStalled(q: QueueState, rec: MemoryJobRecord, worker: MemoryWorker): void {
    rec.timer = undefined;
    if (rec.state !== 'active' || rec.owner !== worker) return;
    rec.owner = undefined;
    rec.stalledCount++;
    if (rec.stalledCount > MAX_STALLED_COUNT) {
      rec.attemptsMade++;
      rec.failedReason = 'job stalled more than allowable limit';
      q.store.finish(rec, 'failed', this.settings.keepFailed);
      return;
    }
    q.store.enqueue(rec);
    this.schedulePump(q);
  }
}
