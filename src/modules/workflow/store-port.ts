/** What the engine needs from persistence; the record store implements it (PostgreSQL or PGlite through the kernel's Database). */
import type { RunRecord, RunState } from './run.ts';
import type { TimeoutPlan } from './store-move.ts';
import type { RunPatch } from './store-types.ts';

export type { RunPatch, TimeoutPlan };

/** An event written to the outbox in the transition's transaction. */
export interface PendingEvent {
  type: string;
  data: unknown;
  /** Routing tokens after the type (kernel subjectToken), so consumers can filter on the bus. */
  route?: string[];
}

/** A pending timeout row. */
export interface TimeoutRow {
  id: number;
  runId: string;
  workflow: string;
  status: string;
  expiresAt: Date;
}

/** Persistence as the engine uses it. Every method that changes a run does it atomically (one statement or one transaction). */
export interface WorkflowStorePort {
  /** Inserts a run at `status` (one statement, with a timeout at `armAt`); Conflict with details.activeRunId if one is active for (workflow, foreignId). */
  createRun(input: { workflow: string; foreignId: string; status: string; object: unknown; runState: RunState }, events: (run: RunRecord) => PendingEvent[], armAt?: Date): Promise<RunRecord>;
  /**
   * The hot path: applies `patch` to `current` if it is still at `current.version`, with history, `events(after)`
   * and `timeouts`, as ONE statement (no transaction round trips). Conflict when stale, NotFound when absent.
   */
  move(current: RunRecord, patch: RunPatch, events: (after: RunRecord) => PendingEvent[], timeouts: TimeoutPlan): Promise<RunRecord>;
  lookup(runId: string): Promise<RunRecord | undefined>;
  /** The newest run of (workflow, foreignId). */
  latest(workflow: string, foreignId: string): Promise<RunRecord | undefined>;
  /** Statuses the run has been at, oldest first. */
  history(runId: string): Promise<{ status: string; runState: RunState; version: number; reason: string | null; createdAt: Date }[]>;
  /** Running runs at (workflow, status), for the consumers' catch-up sweep. */
  runsAt(workflow: string, status: string, limit: number): Promise<RunRecord[]>;
  /** Paused runs last changed before `before`. */
  pausedByErrorsBefore(before: Date, limit: number): Promise<RunRecord[]>;
  /** Replaces the object with `scrubbed`, marks the data deleted and blanks the history's objects. */
  deleteData(runId: string, scrubbed: unknown, events: (run: RunRecord) => PendingEvent[]): Promise<RunRecord>;
  expiredTimeouts(now: Date, limit: number): Promise<TimeoutRow[]>;
  completeTimeout(id: number): Promise<void>;
}
