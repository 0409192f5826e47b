/** The shapes the console pages show: a run row (no object, so pages and refreshes stay small) and time text. */
import type { RunRecord } from '../model/run.ts';

/** A run as one table row; times are ISO strings so the server page and the live refresh format them alike. */
export interface RunRow {
  runId: string;
  workflow: string;
  foreignId: string;
  status: string;
  runState: string;
  createdAt: string;
  updatedAt: string;
}

/** The row of a run. */
export function toRunRow(r: RunRecord): RunRow {
  return { runId: r.runId, workflow: r.workflow, foreignId: r.foreignId, status: r.status, runState: r.runState, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() };
}

/** `2025-01-02 03:04:05` (UTC, seconds); the inline scripts use the same expression, SHORT_TIME_JS. */
export function shortTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

/** shortTime as browser script text. */
export const SHORT_TIME_JS = `(iso) => String(iso).slice(0, 19).replace('T', ' ')`;
