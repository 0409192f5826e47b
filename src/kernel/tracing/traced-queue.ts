/**
 * A JobQueue decorator: a producer span per added job (its context stored with the job) and a consumer span per
 * attempt, child of the enqueuer's span, around the handler. Wraps either adapter; only installed while tracing is on.
 */
import type { JobHandler, JobInfo, JobOptions, JobQueue, QueueCounts, QueueWorker, WorkerOptions } from '../queue/port.ts';
import { currentTraceparent, withSpan } from './spans.ts';

/** Wraps `inner`; every call is passed on unchanged apart from the trace context. */
export class TracedQueue implements JobQueue {
  constructor(private readonly inner: JobQueue) {}

  add<T>(queue: string, name: string, data: T, opts?: JobOptions): Promise<{ id: string }> {
    return withSpan(`enqueue ${queue}`, { kind: 'producer', attributes: { 'messaging.system': 'capstan.queue', 'messaging.destination.name': queue, 'capstan.job.name': name } }, () =>
      this.inner.add(queue, name, data, withContext(opts)),
    );
  }

  addBulk<T>(queue: string, jobs: { name: string; data: T; opts?: JobOptions }[]): Promise<{ id: string }[]> {
    return withSpan(`enqueue ${queue}`, { kind: 'producer', attributes: { 'messaging.system': 'capstan.queue', 'messaging.destination.name': queue, 'messaging.batch.message_count': jobs.length } }, () =>
      this.inner.addBulk(queue, jobs.map((j) => ({ ...j, opts: withContext(j.opts) }))),
    );
  }

  work<T>(queue: string, handler: JobHandler<T>, opts?: WorkerOptions): Promise<QueueWorker> {
    return this.inner.work<T>(
      queue,
      (job) =>
        withSpan(`job ${queue} ${job.name}`, { kind: 'consumer', parent: job.traceparent ?? null, attributes: { 'messaging.system': 'capstan.queue', 'messaging.destination.name': queue, 'messaging.message.id': job.id, 'capstan.job.attempt': job.attempt } }, () => handler(job)),
      opts,
    );
  }

  getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    return this.inner.getJob(queue, id);
  }
  counts(queue: string): Promise<QueueCounts> {
    return this.inner.counts(queue);
  }
  listFailed(queue: string, opts?: { offset?: number; limit?: number }): Promise<JobInfo[]> {
    return this.inner.listFailed(queue, opts);
  }
  retry(queue: string, id: string): Promise<void> {
    return this.inner.retry(queue, id);
  }
  remove(queue: string, id: string): Promise<void> {
    return this.inner.remove(queue, id);
  }
  knownQueues(): string[] {
    return this.inner.knownQueues();
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The options with the active span's context, unless the caller passed one. */
function withContext(opts: JobOptions | undefined): JobOptions | undefined {
  const traceparent = currentTraceparent();
  if (!traceparent || opts?.traceparent) return opts;
  return { ...opts, traceparent };
}
