/** The JobQueue port: named queues, delayed/prioritised/retried jobs, worker groups, failed-job admin. */

/** Worker groups: `controller` jobs are short (killed after 2 min), `long` jobs have no timeout but are
 * detected as stalled when their worker dies, `default` has the default timeout. */
export type WorkerGroup = 'controller' | 'long' | 'default';

/** Options for adding one job. */
export interface JobOptions {
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Lower number runs first (1 is highest); jobs without priority run before prioritized ones FIFO. */
  priority?: number;
  /** Total attempts including the first. Default 1. */
  attempts?: number;
  /** Delay between attempts: exponential doubles `delayMs` each retry. */
  backoff?: { type: 'exponential' | 'fixed'; delayMs: number };
  /** Dedup id: adding a job whose id already exists returns the existing job and adds nothing. */
  jobId?: string;
  /** W3C trace context of the enqueuer (the traced queue sets it), so the job's span joins its trace. */
  traceparent?: string;
}

/** One job handed to a worker. */
export interface Job<T = unknown> {
  id: string;
  name: string;
  queue: string;
  data: T;
  /** 1 on the first attempt. */
  attempt: number;
  /** The enqueuer's trace context, when it was traced. */
  traceparent?: string;
  /** Reports progress (a number 0-100 or an object). */
  progress(value: number | Record<string, unknown>): Promise<void>;
  /** Aborted when the group's timeout elapses, or when the worker is closing and its grace period is over. */
  signal: AbortSignal;
}

/** A job's state as the admin API shows it. */
export type JobState = 'waiting' | 'delayed' | 'prioritized' | 'active' | 'completed' | 'failed' | 'unknown';

/** Snapshot of a job for listing and inspection. */
export interface JobInfo {
  id: string;
  name: string;
  queue: string;
  data: unknown;
  state: JobState;
  attemptsMade: number;
  progress: number | Record<string, unknown>;
  failedReason?: string;
  returnValue?: unknown;
  createdAt: number;
}

/** Counts of jobs per state for one queue. */
export interface QueueCounts {
  waiting: number;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
}

/** Handles one job; the returned value is stored as the job's result. Throwing fails the attempt. */
export type JobHandler<T = unknown> = (job: Job<T>) => Promise<unknown>;

/** Options for a worker. */
export interface WorkerOptions {
  concurrency?: number;
  group?: WorkerGroup;
}

/** A running worker. */
export interface QueueWorker {
  /** Stops taking jobs and waits (bounded) for active ones to finish. */
  close(): Promise<void>;
}

/** The queue. Adapters: memory and BullMQ (Redis). */
export interface JobQueue {
  add<T>(queue: string, name: string, data: T, opts?: JobOptions): Promise<{ id: string }>;
  addBulk<T>(queue: string, jobs: { name: string; data: T; opts?: JobOptions }[]): Promise<{ id: string }[]>;
  work<T>(queue: string, handler: JobHandler<T>, opts?: WorkerOptions): Promise<QueueWorker>;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
  counts(queue: string): Promise<QueueCounts>;
  /** Failed jobs, newest first. */
  listFailed(queue: string, opts?: { offset?: number; limit?: number }): Promise<JobInfo[]>;
  /** Moves a failed job back to waiting. Throws NotFound / Conflict. */
  retry(queue: string, id: string): Promise<void>;
  /** Removes a job that is not active. Throws NotFound / Conflict. */
  remove(queue: string, id: string): Promise<void>;
  /** Names of the queues this instance has used (for metrics). */
  knownQueues(): string[];
  ping(): Promise<void>;
  close(): Promise<void>;
}
