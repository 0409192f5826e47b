/** The shape every benchmark returns: one table row per measured figure. */

/** One line of the results table. */
export interface BenchRow {
  /** Which benchmark file produced it (`http`, `bus`, `queue`, `lease`). */
  group: string;
  /** What was measured, e.g. `GET /healthz`. */
  name: string;
  /** Unit of the kernel and baseline figures, e.g. `req/s`, `ms`. */
  unit: string;
  /** The kernel's figure (median over rounds, or a percentile). */
  kernel: number;
  /** The baseline's figure in the same run, when there is one. */
  baseline?: number;
  /** Minimum kernel/baseline ratio that meets the goal; absent for figures reported without a goal. */
  goalRatio?: number;
  /** Per-round figures and other detail, for RESULTS.md. */
  detail?: string;
}

/** kernel / baseline, or NaN without a baseline. */
export function ratioOf(row: BenchRow): number {
  return row.baseline === undefined || row.baseline === 0 ? Number.NaN : row.kernel / row.baseline;
}

/** 'yes' / 'NO' against the ratio goal, or '—' when the row has no goal. */
export function metOf(row: BenchRow): string {
  if (row.goalRatio === undefined) return '—';
  return ratioOf(row) >= row.goalRatio ? 'yes' : 'NO';
}

/** Writes a progress line to stderr so stdout carries only the table. */
export function progress(group: string, msg: string): void {
  process.stderr.write(`[${group}] ${msg}\n`);
}
