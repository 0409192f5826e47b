/** Maps BullMQ jobs and their states onto the port's JobInfo. */
import type { Job as BullJob } from 'bullmq';
import type { JobInfo, JobState } from './port.ts';

/** The port's state for a BullMQ state (`waiting-children` is not used by this adapter; it reads as waiting). */
export function portState(state: string): JobState {
  switch (state) {
    case 'waiting':
    case 'wait':
    case 'paused':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
    case 'prioritized':
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    default:
      return 'unknown';
  }
}

/** The admin snapshot of a BullMQ job in a known state. */
export function bullJobInfo(queue: string, job: BullJob, state: string): JobInfo {
  const progress = job.progress;
  const info: JobInfo = {
    id: String(job.id),
    name: job.name,
    queue,
    data: job.data,
    state: portState(state),
    attemptsMade: job.attemptsMade,
    progress: typeof progress === 'number' || (typeof progress === 'object' && progress !== null) ? (progress as number | Record<string, unknown>) : 0,
    createdAt: job.timestamp,
  };
  if (job.failedReason) info.failedReason = job.failedReason;
  // BullMQ stores a missing return value as null.
  if (job.returnvalue !== undefined && job.returnvalue !== null) info.returnValue = job.returnvalue;
  return info;
}
