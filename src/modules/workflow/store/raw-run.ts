/** Runs read with hand-written SQL (Database.query on the hot path): the column list and the row mapping. */
import type { RunState } from '../model/run-state.ts';
import type { RunRecord } from '../model/run.ts';

/**
 * The select list of a run. Timestamps come back as epoch milliseconds, a number on both adapters (PostgreSQL's
 * text timestamps would need parsing, and the query builder's driver setting leaves them as strings).
 */
export const RAW_RUN_COLUMNS = `run_id, workflow, foreign_id, run_state, status, object, version, status_description, reason,
  (extract(epoch FROM created_at) * 1000)::float8 AS created_ms, (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms`;

/** A row selected with RAW_RUN_COLUMNS. */
export interface RawRunRow {
  run_id: string;
  workflow: string;
  foreign_id: string;
  run_state: RunState;
  status: string;
  object: unknown;
  version: number;
  status_description: string | null;
  reason: string | null;
  created_ms: number;
  updated_ms: number;
}

/** The stored run of a raw row. */
export function fromRawRun(r: RawRunRow): RunRecord {
  return {
    runId: r.run_id,
    workflow: r.workflow,
    foreignId: r.foreign_id,
    runState: r.run_state,
    status: r.status,
    object: r.object ?? null,
    version: r.version,
    statusDescription: r.status_description,
    reason: r.reason,
    createdAt: new Date(r.created_ms),
    updatedAt: new Date(r.updated_ms),
  };
}
