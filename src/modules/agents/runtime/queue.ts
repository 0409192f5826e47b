/** The queue that carries agent jobs, and how an agent is (re)queued: a job id per reason, so duplicates collapse. */
import type { JobQueue } from '../../../kernel/index.ts';
import { PRIORITIES, type Priority } from '../model/agent.ts';

/** Queue name of agent runs (worker group `long`). */
export const AGENT_QUEUE = 'agents-runs';
/** Queue of delayed worktree removals (cleanup policy `delay`). */
export const CLEANUP_QUEUE = 'agents-cleanup';

/** Job data: which agent to run. */
export interface AgentJob {
  agentId: string;
}

/** Queues a run of the agent at its priority; `reason` makes the job id unique per start, resume or recovery. */
export async function enqueueAgent(queue: JobQueue, agentId: string, priority: Priority, reason: string, delayMs?: number): Promise<void> {
  const jobId = `${agentId}-${reason}`.replace(/:/g, '_');
  await queue.add<AgentJob>(AGENT_QUEUE, 'run', { agentId }, { jobId, priority: PRIORITIES.indexOf(priority) + 1, ...(delayMs ? { delayMs } : {}) });
}

/** Queues the removal of an agent's worktree after `delayMs`. */
export async function enqueueCleanup(queue: JobQueue, agentId: string, delayMs: number): Promise<void> {
  await queue.add<AgentJob>(CLEANUP_QUEUE, 'cleanup', { agentId }, { jobId: `${agentId}-cleanup`, delayMs });
}
