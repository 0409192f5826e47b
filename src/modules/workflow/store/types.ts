/** What the workflow store reads back besides runs: history rows, pages of runs, definitions; and the list query. */
import type { RunRecord } from '../model/run.ts';
import type { RunState } from '../model/run-state.ts';

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
  runs: RunRecord[];
  nextCursor: string | null;
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
