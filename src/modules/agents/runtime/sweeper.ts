/**
 * The sweeper (one instance at a time, through a kernel role): resumes agents whose worker died (heartbeat older than
 * the lease) from their last saved turn on any worker, queues agents whose job was lost, and runs `more` (swarms).
 */
import { sleepUnlessAborted, type JobQueue, type Logger } from '../../../kernel/index.ts';
import type { AgentsConfig } from '../config.ts';
import type { AgentStore } from '../store/index.ts';
import { enqueueAgent } from './queue.ts';

/** One pass; returns how many agents it moved. */
export async function sweepOnce(store: AgentStore, queue: JobQueue, config: AgentsConfig, more?: () => Promise<void>): Promise<number> {
  let moved = 0;
  // Their agents.agent.queued|failed events are written by the same statement (the kernel outbox).
  for (const a of await store.sweepOrphans(config.leaseMs, config.maxRecoveries)) {
    moved += 1;
    if (a.status === 'queued') await enqueueAgent(queue, a.id, a.spec.priority, `r${a.recoveries}`);
  }
  // Queued and not picked up: the enqueue after the commit failed, the memory queue died with its process, or a worker shut down.
  for (const a of await store.waitingSince(Math.max(config.sweepIntervalMs * 4, 2_000))) {
    moved += 1;
    await enqueueAgent(queue, a.id, a.spec.priority, `w${a.epoch}-${Date.parse(a.updatedAt)}`);
  }
  await more?.();
  return moved;
}

/** The sweeper loop while the role is held. */
export async function runSweeper(signal: AbortSignal, store: AgentStore, queue: JobQueue, config: AgentsConfig, log: Logger, more?: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    try {
      await sweepOnce(store, queue, config, more);
    } catch (err) {
      log.warn({ err }, 'agents sweep failed; retrying next period');
    }
    await sleepUnlessAborted(config.sweepIntervalMs, signal);
  }
}
