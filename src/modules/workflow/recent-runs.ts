/**
 * Runs this process wrote last, by run id. A step consumer that gets the event for version v of a run this process
 * has just written (the previous step, usually on the same instance) uses the record it already has instead of
 * reading it back: one round trip less per step. A (run, version) pair names exactly one row state, since every
 * change bumps the version, so a hit is what a read would return; any other version is read from the store.
 */
import type { RunRecord } from './run.ts';

/** Records are shared, not copied: treat them as read-only (steps get a deep copy through toRun). */
export class RecentRuns {
  private readonly runs = new Map<string, RunRecord>();

  constructor(private readonly limit = 10_000) {}

  /** Remembers the run as written; the oldest entry goes when the cache is full. */
  put(run: RunRecord): void {
    // Delete first so the entry moves to the end of the Map's insertion order (the newest).
    this.runs.delete(run.runId);
    this.runs.set(run.runId, run);
    if (this.runs.size > this.limit) this.runs.delete(this.runs.keys().next().value!);
  }

  /** The run at exactly `version`, if this process wrote that version last. */
  get(runId: string, version: number): RunRecord | undefined {
    const r = this.runs.get(runId);
    return r && r.version === version ? r : undefined;
  }

  /** Forgets a run (its data was deleted: nothing of it should stay in memory). */
  forget(runId: string): void {
    this.runs.delete(runId);
  }
}
