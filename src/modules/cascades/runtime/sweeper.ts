/**
 * The sweeper (one instance at a time, through a kernel role): resumes orphans (heartbeat older than the lease) from
 * their last checkpoint on any worker, re-queues sessions whose job was lost, times out human checkpoints, and deletes
 * ended sessions past their retention.
 */
import { realClock, type Clock, type JobQueue, type Logger } from '../../../kernel/index.ts';
import type { CascadesConfig } from '../config.ts';
import type { CascadeStore, ChildSessionStore, SessionDataStore } from '../store/index.ts';
import type { CascadeMetrics } from './metrics.ts';
import { enqueueSession } from './queue.ts';

/** One pass of the sweeper; returns how many sessions it moved. Question deadlines are judged on `clock`. */
export async function sweepOnce(store: CascadeStore, queue: JobQueue, config: CascadesConfig, metrics: CascadeMetrics, clock: Clock = realClock): Promise<number> {
  let moved = 0;
  // Their events (recovered, or failed once the attempts are spent) commit with the sweep itself.
  for (const s of await store.sweepOrphans(config.leaseMs, config.maxRecoveries)) {
    moved += 1;
    if (s.status === 'orphaned') {
      metrics.orphan('requeued');
      await enqueueSession(queue, s.id, `r${s.recoveries}`);
    } else {
      metrics.orphan('failed');
      metrics.ended(s.cascadeId, 'error');
    }
  }
  // A session queued but never picked up (the enqueue after its commit failed, or the queue lost it).
  for (const s of await store.waitingSince(Math.max(config.leaseMs, 5_000))) {
    moved += 1;
    await enqueueSession(queue, s.id, `w${Date.parse(s.updatedAt)}`);
  }
  // Closing is one conditional UPDATE (pending → timed_out): of two sweepers that see the same question, one moves it.
  for (const h of await store.expiredHumanCheckpoints(clock.date())) {
    const closed = await store.closeHumanCheckpoint(h.id, 'timed_out', null);
    if (closed) {
      moved += 1;
      await enqueueSession(queue, closed.sessionId, `t${h.id}`);
    }
  }
  return moved;
}

/** Sessions one cleanup statement deletes: short statements and locks; a big backlog takes several. */
const CLEANUP_BATCH = 500;

/** Deletes ended sessions past the retention, batch after batch; returns how many went. */
export async function cleanupOnce(store: CascadeStore, config: CascadesConfig, signal?: AbortSignal): Promise<number> {
  if (config.retentionMs === 0) return 0;
  let total = 0;
  for (;;) {
    const n = await store.deleteEnded(config.retentionMs, CLEANUP_BATCH);
    total += n;
    if (n < CLEANUP_BATCH || signal?.aborted) return total;
  }
}

/** What the sweeper does for data phases and sub-cascades. */
export interface DataSweep {
  data: SessionDataStore;
  children: ChildSessionStore;
}

/**
 * Parents blocked on children whose wait is over but who were never woken (the child's worker died between its end
 * and the wake, or a child ended just as its parent blocked): wakes and queues them; returns how many.
 */
export async function wakeOverdueParents(children: ChildSessionStore, queue: JobQueue): Promise<number> {
  const ids = await children.wakeOverdue();
  for (const id of ids) await enqueueSession(queue, id, `cw${Date.now()}`);
  return ids.length;
}

/** Drops per-session data schemas (and their roles) of sessions ended longer than `dataTtlMs` ago, batch after batch. */
export async function dropExpiredData(data: SessionDataStore, config: CascadesConfig, signal?: AbortSignal): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await data.dropExpired(config.dataTtlMs, 50);
    total += n;
    if (n < 50 || signal?.aborted) return total;
  }
}

/**
 * The sweeper loop while the role is held; every few passes it also deletes ended sessions past the retention and
 * drops data schemas past their TTL.
 */
export async function runSweeper(signal: AbortSignal, store: CascadeStore, queue: JobQueue, config: CascadesConfig, log: Logger, metrics: CascadeMetrics, dataSweep?: DataSweep, clock: Clock = realClock): Promise<void> {
  // Counted in passes rather than read from a clock: the cleanup runs on the first pass, then every N-th.
  const cleanupEvery = Math.max(1, Math.round(config.cleanupIntervalMs / config.sweepIntervalMs));
  for (let pass = 0; !signal.aborted; pass++) {
    try {
      await sweepOnce(store, queue, config, metrics, clock);
      if (dataSweep) await wakeOverdueParents(dataSweep.children, queue);
      if (pass % cleanupEvery === 0) {
        const deleted = await cleanupOnce(store, config, signal);
        if (deleted > 0) log.info({ deleted, retentionMs: config.retentionMs }, 'deleted ended cascade sessions past their retention');
        const dropped = dataSweep ? await dropExpiredData(dataSweep.data, config, signal) : 0;
        if (dropped > 0) log.info({ dropped, dataTtlMs: config.dataTtlMs }, 'dropped per-session data schemas past their TTL');
      }
    } catch (err) {
      log.warn({ err }, 'cascade sweep failed; retrying next period');
    }
    await clock.sleep(config.sweepIntervalMs, signal);
  }
}
