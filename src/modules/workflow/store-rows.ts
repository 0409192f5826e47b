/** Row-to-record mapping and the transaction helper shared by the store's files. */
import type { Database, Db } from '../../kernel/index.ts';
import type { workflowHistory, workflowRuns } from './schema.ts';
import type { HistoryEntry, StoredRun } from './store-types.ts';

/** A selected workflow_runs row. */
export type RunRow = typeof workflowRuns.$inferSelect;

/** A selected workflow_history row. */
export type HistoryRow = typeof workflowHistory.$inferSelect;

/** A run row as the store hands it out (SQL NULL object reads as null). */
export function toStoredRun(r: RunRow): StoredRun {
  return { ...r, object: r.object ?? null };
}

/** A history row as the store hands it out. */
export function toHistoryEntry(r: HistoryRow): HistoryEntry {
  return { ...r, object: r.object ?? null };
}

/** Runs `fn` in the caller's transaction when given one, else in a new transaction (retried on transient errors). */
export function inTx<T>(db: Database, tx: Db | undefined, fn: (tx: Db) => Promise<T>): Promise<T> {
  return tx ? fn(tx) : db.transaction(fn);
}
