/** The queue that carries session jobs, and how a session is (re)queued: a job id per reason, so duplicates collapse. */
import type { JobQueue } from '../../../kernel/index.ts';

/** Queue name of session jobs (worker group `long`). */
export const SESSION_QUEUE = 'cascades-sessions';

/** Job data: which session to run. */
export interface SessionJob {
  sessionId: string;
}

/** Queues a run of the session; `reason` makes the job id (start, r<n> recovery, h<checkpoint> answer, w<time> lost job). */
export async function enqueueSession(queue: JobQueue, sessionId: string, reason: string): Promise<void> {
  const jobId = `${sessionId}-${reason}`.replace(/:/g, '_');
  await queue.add<SessionJob>(SESSION_QUEUE, 'run', { sessionId }, { jobId });
}
