/** Row-to-record mapping of the tables read through the query builder. */
import type { RunRecord } from '../model/run.ts';
import type { workflowHistory, workflowRuns } from './schema.ts';
import type { HistoryEntry } from './types.ts';

/** A selected workflow_runs row. */
export type RunRow = typeof workflowRuns.$inferSelect;

/** A selected workflow_history row. */
export type HistoryRow = typeof workflowHistory.$inferSelect;

/** A run row as the store hands it out (SQL NULL object reads as null). */
export function toRunRecord(r: RunRow): RunRecord {
  return { ...r, object: r.object ?? null };
}

/** A history row as the store hands it out. */
export function toHistoryEntry(r: HistoryRow): HistoryEntry {
  return { ...r, object: r.object ?? null };
}
