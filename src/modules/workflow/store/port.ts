/**
 * The one interface of workflow persistence that the engine uses. Two adapters implement it: the record store on the
 * kernel's Database (PostgreSQL or PGlite, store/index.ts) and the in-memory store (memory.ts); one contract suite
 * (test/contract/workflow-store-port-contract.ts) runs against both.
 */
import type { OutboxEvent } from '../../../kernel/index.ts';
import type { RunRecord } from '../model/run.ts';
import type { RunState } from '../model/run-state.ts';
import type { HistoryEntry } from './types.ts';

/** A new run; it starts `initiated` (no step has picked it up yet, as in luno) or `running` (the engine starts it at once). */
export interface NewRun {
  workflow: string;
  foreignId: string;
  /** The starting status. */
  status: string;
  runState: 'initiated' | 'running';
  object?: unknown;
  statusDescription?: string | null;
  /** The trigger's Idempotency-Key, stored with the run in the same write; TriggerKeyTaken if the key is stored already. */
  triggerKey?: NewTriggerKey;
}

/** An Idempotency-Key to store with a new run. */
export interface NewTriggerKey {
  key: string;
  /** A hash of the request body: the same key with another body is refused, not answered. */
  requestHash: string;
  expiresAt: Date;
}

/** A stored Idempotency-Key and the first answer it gave: the run as it was created. */
export interface StoredTriggerKey {
  requestHash: string;
  runId: string;
  status: string;
  runState: RunState;
}

/** A change to a run; absent fields keep their value. */
export interface RunPatch {
  status?: string;
  runState?: RunState;
  object?: unknown;
  statusDescription?: string | null;
  reason?: string | null;
}

/** What happens to the run's timeouts in the same write. */
export interface TimeoutPlan {
  /** Cancel the run's pending timeouts (it leaves a status that had one, or stops running). */
  cancel: boolean;
  /** Arm a timeout at the run's new status expiring then. */
  armAt?: Date;
}

/** A pending timeout. */
export interface TimeoutRow {
  id: number;
  runId: string;
  workflow: string;
  status: string;
  expiresAt: Date;
}

/** The outbox events of a write, made from the run as written (so they carry its new version and status). */
export type RunEvents = (run: RunRecord) => readonly OutboxEvent[];

/**
 * Persistence as the engine uses it. Every method that changes a run does it atomically, with its history row and its
 * outbox events (correlation id = run id unless an event names another); values PostgreSQL cannot store are Invalid.
 */
export interface WorkflowStorePort {
  /**
   * Inserts a run at version 1 with a `workflow.run.created` event, then `events(run)`, and a timeout at its status when
   * `armAt` is given. Conflict (details.activeRunId) if a run of (workflow, foreignId) is active.
   */
  createRun(input: NewRun, events: RunEvents, armAt?: Date): Promise<RunRecord>;
  /** The unexpired Idempotency-Key `key` of `workflow` at `now`; an expired one is removed (the key may be used again). */
  findTriggerKey(workflow: string, key: string, now: Date): Promise<StoredTriggerKey | undefined>;
  /** Removes up to `limit` keys expired at `now`; returns how many. */
  deleteExpiredTriggerKeys(now: Date, limit: number): Promise<number>;
  /**
   * Applies `patch` to `current` if it is still at `current.version` and the run-state move is allowed, with history,
   * `events(after)` and `timeouts`. Conflict when stale or not allowed, NotFound when absent.
   */
  move(current: RunRecord, patch: RunPatch, events: RunEvents, timeouts: TimeoutPlan): Promise<RunRecord>;
  lookup(runId: string): Promise<RunRecord | undefined>;
  /** The newest run of (workflow, foreignId), finished or not. */
  latest(workflow: string, foreignId: string): Promise<RunRecord | undefined>;
  /** Every change of the run, oldest first (empty for an unknown run). */
  history(runId: string): Promise<HistoryEntry[]>;
  /** Running runs at (workflow, status), oldest first, for the consumers' catch-up sweep. */
  runsAt(workflow: string, status: string, limit: number): Promise<RunRecord[]>;
  /** Runs paused by step errors (not by hand) last changed before `before`. */
  pausedByErrorsBefore(before: Date, limit: number): Promise<RunRecord[]>;
  /** Replaces a finished run's object with `scrubbed`, marks it dataDeleted and blanks its history's objects. */
  deleteData(runId: string, scrubbed: unknown, events: RunEvents): Promise<RunRecord>;
  /** Pending timeouts expired at `now`, earliest first. */
  expiredTimeouts(now: Date, limit: number): Promise<TimeoutRow[]>;
  /** Marks a pending timeout fired; false if it already was, or was cancelled. */
  completeTimeout(id: number): Promise<boolean>;
  /** When the earliest pending timeout is due (undefined when none is pending): the timeout poller sleeps until then. */
  nextTimeoutAt(): Promise<Date | undefined>;
}
