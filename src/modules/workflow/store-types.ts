/** The records the workflow store reads and writes, and the inputs of its methods. */
import type { Db, OutboxEvent } from '../../kernel/index.ts';
import type { RunState } from './run-state.ts';

/** A run as stored (same shape as run.ts's RunRecord). */
export interface StoredRun {
  runId: string;
  workflow: string;
  foreignId: string;
  runState: RunState;
  status: string;
  object: unknown;
  version: number;
  statusDescription: string | null;
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Input of `createRun`. */
export interface NewRun {
  workflow: string;
  foreignId: string;
  /** The starting status. */
  status: string;
  object?: unknown;
  /** `initiated` (default, as luno: no step has picked it up yet) or `running` (the engine starts it at once). */
  runState?: 'initiated' | 'running';
  statusDescription?: string | null;
}

/** A change to a run; absent fields keep their value. */
export interface RunPatch {
  status?: string;
  runState?: RunState;
  object?: unknown;
  statusDescription?: string | null;
  reason?: string | null;
}

/** Outbox events of a write: a list, or a function of the run as written (to carry its new version, status...). */
export type RunEvents = readonly OutboxEvent[] | ((run: StoredRun) => readonly OutboxEvent[]);

/** Work to do inside the write's transaction after the run, history and events (arm timeouts, record a dedup key...). */
export type InTransaction = (tx: Db, run: StoredRun) => Promise<void>;

/** Options of a run write. */
export interface WriteOptions {
  /** Run inside the caller's transaction instead of opening one. */
  tx?: Db;
  /** Outbox events written in the same transaction; `correlationId` defaults to the run id. */
  events?: RunEvents;
  /** Called last inside the transaction; a throw rolls everything back. */
  inTransaction?: InTransaction;
}

/** One history row: the run right after one change, oldest first. */
export interface HistoryEntry {
  id: number;
  runId: string;
  version: number;
  status: string;
  runState: RunState;
  statusDescription: string | null;
  reason: string | null;
  /** The object as written by this change; null when the change kept the object (or its data was deleted). */
  object: unknown;
  createdAt: Date;
}

/** Filters and paging of `list`. */
export interface ListRunsQuery {
  workflow?: string;
  foreignId?: string;
  status?: string;
  runState?: RunState;
  /** Inclusive lower bound of created_at. */
  createdAfter?: Date;
  /** Exclusive upper bound of created_at. */
  createdBefore?: Date;
  /** By (createdAt, runId); default 'desc' (newest first). */
  order?: 'asc' | 'desc';
  /** 1..1000, default 100. */
  limit?: number;
  /** The previous page's `nextCursor`. */
  cursor?: string;
}

/** One page of runs; `nextCursor` is null on the last page. */
export interface RunPage {
  runs: StoredRun[];
  nextCursor: string | null;
}

/** Input of `addTimeout`. */
export interface NewTimeout {
  runId: string;
  workflow: string;
  status: string;
  expiresAt: Date;
}

/** A timeout row; pending while both `completedAt` and `cancelledAt` are null. */
export interface StoredTimeout extends NewTimeout {
  id: number;
  completedAt: Date | null;
  cancelledAt: Date | null;
  createdAt: Date;
}

/** A saved workflow definition. */
export interface StoredDefinition {
  name: string;
  kind: string;
  spec: unknown;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
