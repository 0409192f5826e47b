/** The JobQueue on BullMQ (Redis): shared connections, lazily created Queue objects, worker groups. */
import { createRedis, type RedisSentinelConfig } from './redis-connection.ts';
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { CapstanError, Conflict, NotFound, Unavailable } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Logger } from '../log.ts';
import { isTransient } from '../retry.ts';
import { bullJobInfo } from './bullmq-job-info.ts';
import { BullmqWorker } from './bullmq-worker.ts';
import { groupTimeoutMs, queueSettings, type QueueAdapterOptions, type QueueSettings } from './options.ts';
import type { JobHandler, JobInfo, JobOptions, JobQueue, QueueCounts, QueueWorker, WorkerOptions } from './port.ts';
import { normalizeBulk, normalizeWorker, validateQueueName, type NormalizedJobOptions } from './validate.ts';

/** Options of the BullMQ adapter. */
export interface BullmqQueueOptions extends QueueAdapterOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Find the primary through Redis Sentinel (the URL then gives credentials, database and TLS only). */
  sentinel?: RedisSentinelConfig;
  /** BullMQ key prefix; deployments (and test files) sharing a Redis use different prefixes. Default `capstan`. */
  prefix?: string;
  /** Where connection errors are reported; they are never fatal (ioredis reconnects by itself). */
  log?: Logger;
  /** How long ping() waits for PONG. Default 2000. */
  pingTimeoutMs?: number;
}

// ioredis gives up on a command after this many reconnect attempts; the error surfaces as Unavailable.
const PRODUCER_MAX_RETRIES = 3;

/** JobQueue backed by BullMQ. */
export class BullmqQueue implements JobQueue {
  private readonly settings: QueueSettings;
  private readonly prefix: string;
  /** Shared by every Queue object: adds and admin reads fail fast while Redis is down. */
  private readonly conn: Redis;
  /** Shared by the workers; BullMQ requires maxRetriesPerRequest null there and duplicates it for blocking reads. */
  private workerConn?: Redis;
  private readonly queues = new Map<string, Promise<Queue>>();
  private readonly workers = new Set<BullmqWorker>();
  private readonly known = new Set<string>();
  private closed = false;

  constructor(private readonly opts: BullmqQueueOptions) {
    this.settings = queueSettings(opts);
    this.prefix = opts.prefix ?? 'capstan';
    this.conn = this.connect(PRODUCER_MAX_RETRIES);
  }

  /** Adds one job. */
  async add<T>(queue: string, name: string, data: T, opts?: JobOptions): Promise<{ id: string }> {
    const [added] = await this.addBulk(queue, [{ name, data, opts }]);
    return added!;
  }

  /** Adds jobs atomically per call; a job whose jobId exists already is not added and its id is returned. */
  async addBulk<T>(queue: string, jobs: { name: string; data: T; opts?: JobOptions }[]): Promise<{ id: string }[]> {
    this.assertOpen();
    const bulk = normalizeBulk(queue, jobs).map((j) => ({ name: j.name, data: j.data, opts: this.jobOpts(j.normalized) }));
    this.known.add(queue);
    const added = await this.guard(async () => (await this.queue(queue)).addBulk(bulk));
    return added.map((job) => ({ id: String(job.id) }));
  }

  /** Starts a BullMQ worker in the given group. */
  async work<T>(queue: string, handler: JobHandler<T>, opts?: WorkerOptions): Promise<QueueWorker> {
    this.assertOpen();
    validateQueueName(queue);
    const { concurrency, group } = normalizeWorker(opts);
    this.known.add(queue);
    await this.connected();
    this.workerConn ??= this.connect(null);
    const worker = new BullmqWorker({
      queue,
      handler: handler as JobHandler<unknown>,
      connection: this.workerConn,
      prefix: this.prefix,
      concurrency,
      timeoutMs: groupTimeoutMs(this.settings, group),
      stalledIntervalMs: this.settings.stalledIntervalMs,
      closeTimeoutMs: this.settings.closeTimeoutMs,
      metrics: this.settings.metrics,
      onError: (err) => this.report(err, `worker ${queue}`),
      onClosed: (w) => this.workers.delete(w),
    });
    this.workers.add(worker);
    await this.guard(() => worker.ready());
    return worker;
  }

  /** A job's snapshot, or undefined. */
  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    validateQueueName(queue);
    return this.guard(async () => {
      // State first: a job read first could finish before its state is read, showing `completed` without a result.
      const q = await this.queue(queue);
      const state = await q.getJobState(id);
      if (state === 'unknown') return undefined;
      const job = await q.getJob(id);
      return job && bullJobInfo(queue, job, state);
    });
  }

  /** Jobs per state; `waiting` includes prioritized jobs. */
  async counts(queue: string): Promise<QueueCounts> {
    validateQueueName(queue);
    const c = await this.guard(async () => (await this.queue(queue)).getJobCounts('wait', 'prioritized', 'waiting-children', 'delayed', 'active', 'completed', 'failed'));
    const n = (k: string) => c[k] ?? 0;
    return { waiting: n('wait') + n('prioritized') + n('waiting-children'), delayed: n('delayed'), active: n('active'), completed: n('completed'), failed: n('failed') };
  }

  /** Failed jobs, newest first. */
  async listFailed(queue: string, opts: { offset?: number; limit?: number } = {}): Promise<JobInfo[]> {
    validateQueueName(queue);
    const offset = Math.max(0, opts.offset ?? 0);
    const limit = Math.max(1, opts.limit ?? 100);
    const jobs = await this.guard(async () => (await this.queue(queue)).getFailed(offset, offset + limit - 1));
    return jobs.filter((j) => j !== undefined && j !== null).map((j) => bullJobInfo(queue, j, 'failed'));
  }

  /** Moves a failed job back to waiting with its attempts reset. */
  async retry(queue: string, id: string): Promise<void> {
    validateQueueName(queue);
    await this.guard(async () => {
      const job = await (await this.queue(queue)).getJob(id);
      if (!job) throw new NotFound(`job ${id} in queue ${queue}`);
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === -1) throw new NotFound(`job ${id} in queue ${queue}`);
        if (code === -3) throw new Conflict(`job ${id} is ${await job.getState()}, only failed jobs can be retried`);
        throw err;
      }
    });
  }

  /** Deletes a job that is not active. */
  async remove(queue: string, id: string): Promise<void> {
    validateQueueName(queue);
    await this.guard(async () => {
      const job = await (await this.queue(queue)).getJob(id);
      if (!job) throw new NotFound(`job ${id} in queue ${queue}`);
      const state = await job.getState();
      if (state === 'active') throw new Conflict(`job ${id} is active and cannot be removed`, { state });
      try {
        await job.remove();
      } catch (err) {
        // BullMQ refuses while a worker holds the job's lock (it became active in between).
        if (/locked/i.test((err as Error).message)) throw new Conflict(`job ${id} is active and cannot be removed`, { state: 'active' });
        throw err;
      }
    });
  }

  /** Queues that jobs were added to or workers started on by this instance. */
  knownQueues(): string[] {
    return [...this.known];
  }

  /** Redis PING, bounded so that a health check does not hang while Redis is down. */
  async ping(): Promise<void> {
    this.assertOpen();
    const ms = this.opts.pingTimeoutMs ?? 2_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Unavailable(`redis did not answer PING within ${ms} ms`)), ms)));
    try {
      await Promise.race([this.guard(() => this.conn.ping()), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes workers (each bounded by closeTimeoutMs), then the Queue objects and both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.workers].map((w) => w.close()));
    await Promise.allSettled([...this.queues.values()].map(async (q) => (await q).close()));
    for (const c of [this.conn, this.workerConn]) {
      // QUIT would wait in the offline queue while Redis is down (forever on the worker connection).
      if (c?.status === 'ready') await c.quit().catch(() => c.disconnect());
      else c?.disconnect();
    }
  }

  private connect(maxRetriesPerRequest: number | null): Redis {
    const c = createRedis(this.opts, { maxRetriesPerRequest });
    // Without a listener an 'error' event would crash the process while Redis restarts.
    c.on('error', (err) => this.report(err, 'redis connection'));
    return c;
  }

  // A Queue object waits for its first connection forever, so it is made only once Redis answers; one that
  // still fails to initialise is dropped, so that the next call tries again instead of hanging on it.
  private queue(name: string): Promise<Queue> {
    let q = this.queues.get(name);
    if (!q) {
      q = this.openQueue(name);
      this.queues.set(name, q);
      q.catch(() => this.queues.delete(name));
    }
    return q;
  }

  private async openQueue(name: string): Promise<Queue> {
    await this.connected();
    const q = new Queue(name, { connection: this.conn, prefix: this.prefix });
    q.on('error', (err) => this.report(err, `queue ${name}`));
    try {
      await q.waitUntilReady();
      return q;
    } catch (err) {
      await q.close().catch(() => {});
      throw err;
    }
  }

  /** Throws Unavailable unless the shared connection is up (or comes up within the ping timeout). */
  private async connected(): Promise<void> {
    if (this.conn.status !== 'ready') await this.ping();
  }

  private jobOpts(o: NormalizedJobOptions): JobsOptions {
    const opts: JobsOptions = {
      // Our own ids: time-ordered UUIDs in both adapters (BullMQ would use a per-queue counter).
      jobId: o.jobId ?? newId(),
      attempts: o.attempts,
      removeOnComplete: { count: this.settings.keepCompleted },
      removeOnFail: { count: this.settings.keepFailed },
    };
    if (o.delayMs > 0) opts.delay = o.delayMs;
    if (o.priority !== undefined) opts.priority = o.priority;
    if (o.backoff) opts.backoff = { type: o.backoff.type, delay: o.backoff.delayMs };
    // BullMQ's own slot for propagated context: stored with the job and read back by the worker.
    if (o.traceparent) opts.telemetry = { metadata: o.traceparent, omitContext: true };
    return opts;
  }

  private assertOpen(): void {
    if (this.closed) throw new Unavailable('job queue is closed');
  }

  // Connection failures become Unavailable (503); our own typed errors and BullMQ's other errors pass through.
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CapstanError) throw err;
      if (isTransient(err) || /max retries per request|Stream isn't writeable|enableOfflineQueue/i.test((err as Error)?.message ?? '')) {
        throw new Unavailable(`redis: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  private lastReport = 0;

  private report(err: Error, where: string): void {
    // A Redis outage emits an error per reconnect attempt; one line per second is enough to see it.
    const now = Date.now();
    if (now - this.lastReport < 1_000) return;
    this.lastReport = now;
    this.opts.log?.warn({ err, where }, 'job queue: redis error');
  }
}
