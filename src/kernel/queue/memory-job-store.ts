/** One in-memory queue's jobs: the waiting order (priority, then FIFO) and bounded lists of finished jobs. */
import type { JobInfo, QueueCounts } from './port.ts';
import type { NormalizedJobOptions } from './validate.ts';

/** A job as the memory adapter holds it. */
export interface MemoryJobRecord {
  id: string;
  name: string;
  queue: string;
  data: unknown;
  opts: NormalizedJobOptions;
  state: 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';
  attemptsMade: number;
  stalledCount: number;
  progress: number | Record<string, unknown>;
  failedReason?: string;
  returnValue?: unknown;
  createdAt: number;
  /** Position among equal priorities; a job handed back after a shutdown or stall keeps its place. */
  seq: number;
  /** The delay, backoff or stall-detection timer pending for this job. */
  timer?: ReturnType<typeof setTimeout>;
  /** Identifies the current attempt; results of any other (timed-out, abandoned) attempt are ignored. */
  run?: object;
  /** The worker running the current attempt. */
  owner?: object;
}

// Jobs without priority come before prioritized ones, as in BullMQ.
function rank(r: MemoryJobRecord): number {
  return r.opts.priority ?? 0;
}

function before(a: MemoryJobRecord, b: MemoryJobRecord): boolean {
  return rank(a) < rank(b) || (rank(a) === rank(b) && a.seq < b.seq);
}

/** Jobs of one queue. */
export class MemoryJobStore {
  readonly jobs = new Map<string, MemoryJobRecord>();
  private readonly waiting: MemoryJobRecord[] = [];
  private readonly completed = new Set<string>();
  private readonly failed = new Set<string>();

  /** True when a job is ready to run. */
  hasWaiting(): boolean {
    return this.waiting.length > 0;
  }

  /** Puts a job in line at its priority and sequence position. */
  enqueue(rec: MemoryJobRecord): void {
    rec.state = 'waiting';
    let lo = 0;
    let hi = this.waiting.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.waiting[mid]!, rec)) lo = mid + 1;
      else hi = mid;
    }
    this.waiting.splice(lo, 0, rec);
  }

  /** Takes the next job to run. */
  takeNext(): MemoryJobRecord | undefined {
    return this.waiting.shift();
  }

  /** Records a finished job, evicting the oldest finished ones beyond `keep`. */
  finish(rec: MemoryJobRecord, state: 'completed' | 'failed', keep: number): void {
    rec.state = state;
    const list = state === 'completed' ? this.completed : this.failed;
    list.add(rec.id);
    for (const old of list) {
      if (list.size <= keep) break;
      list.delete(old);
      this.jobs.delete(old);
    }
  }

  /** Takes a failed job out of the failed list (before a retry). */
  unfail(rec: MemoryJobRecord): void {
    this.failed.delete(rec.id);
  }

  /** Deletes a job that is not active. */
  forget(rec: MemoryJobRecord): void {
    const i = this.waiting.indexOf(rec);
    if (i >= 0) this.waiting.splice(i, 1);
    this.completed.delete(rec.id);
    this.failed.delete(rec.id);
    this.jobs.delete(rec.id);
  }

  /** Failed jobs, newest first. */
  failedNewestFirst(offset: number, limit: number): MemoryJobRecord[] {
    const ids = [...this.failed].reverse().slice(offset, offset + limit);
    return ids.map((id) => this.jobs.get(id)).filter((r): r is MemoryJobRecord => r !== undefined);
  }

  /** Jobs per state. */
  counts(): QueueCounts {
    let delayed = 0;
    let active = 0;
    for (const r of this.jobs.values()) {
      if (r.state === 'delayed') delayed++;
      else if (r.state === 'active') active++;
    }
    return { waiting: this.waiting.length, delayed, active, completed: this.completed.size, failed: this.failed.size };
  }
}

/** The admin snapshot of a job; a waiting job with a priority shows as `prioritized`, as BullMQ reports it. */
export function memoryJobInfo(r: MemoryJobRecord): JobInfo {
  const state = r.state === 'waiting' && r.opts.priority !== undefined ? 'prioritized' : r.state;
  // Copies, so that a caller mutating the snapshot cannot change the stored job (BullMQ hands out copies too).
  const info: JobInfo = {
    id: r.id,
    name: r.name,
    queue: r.queue,
    data: structuredClone(r.data),
    state,
    attemptsMade: r.attemptsMade,
    progress: structuredClone(r.progress),
    createdAt: r.createdAt,
  };
  if (r.failedReason !== undefined) info.failedReason = r.failedReason;
  if (r.returnValue !== undefined) info.returnValue = structuredClone(r.returnValue);
  return info;
}
