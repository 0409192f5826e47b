/**
 * Runs this process wrote last, by run id. A step consumer that gets the event for version v of a run this process
 * has just written (the previous step, usually on the same instance) uses the record it already has instead of
 * reading it back: one round trip less per step. A (run, version) pair names exactly one row state, since every
 * change bumps the version; any other version is read from the store.
 *
 * A hit says what the run was when this process wrote it, not that it is still so: another instance may have moved
 * it on since (a shard's earlier holder ran the step). So a consumer asks only for entries written since its tenure
 * began (`mark()` then `get(..., since)`): while it holds the shard nobody else runs its step, so such an entry is
 * still current as far as the step goes. An older entry (written before a hand-over) is read from the store.
 */
import type { RunRecord } from '../model/run.ts';

/** Bounds of the cache: entries, and the JSON size of objects, one and all together (objects can be large). */
export interface RecentRunsLimits {
  entries: number;
  objectChars: number;
  totalChars: number;
}

const DEFAULT_LIMITS: RecentRunsLimits = { entries: 10_000, objectChars: 64 * 1024, totalChars: 64 * 1024 * 1024 };

/** Records are shared, not copied: treat them as read-only (steps get a deep copy through toRun). */
export class RecentRuns {
  private readonly runs = new Map<string, { run: RunRecord; chars: number; seq: number }>();
  private totalChars = 0;
  /** Puts so far: an entry's `seq` orders it against a consumer's mark. */
  private puts = 0;
  private readonly limits: RecentRunsLimits;

  constructor(limits: Partial<RecentRunsLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Remembers the run as written (not if its object is too large to keep); the oldest entries go first when full. */
  put(run: RunRecord): void {
    this.forget(run.runId);
    const chars = JSON.stringify(run.object ?? null).length;
    if (chars > this.limits.objectChars) return;
    // Map iteration order is insertion order, so the first key is always the oldest entry.
    this.runs.set(run.runId, { run, chars, seq: ++this.puts });
    this.totalChars += chars;
    while (this.runs.size > this.limits.entries || this.totalChars > this.limits.totalChars) this.forget(this.runs.keys().next().value!);
  }

  /** A point in this cache's history: `get(..., since)` answers only for entries put after it. */
  mark(): number {
    return this.puts;
  }

  /** The run at exactly `version`, if this process wrote that version last (and did so after the mark `since`). */
  get(runId: string, version: number, since = 0): RunRecord | undefined {
    const e = this.runs.get(runId);
    return e && e.run.version === version && e.seq > since ? e.run : undefined;
  }

  /** Forgets a run (e.g. its data was deleted: nothing of it should stay in memory). */
  forget(runId: string): void {
    const e = this.runs.get(runId);
    if (!e) return;
    this.runs.delete(runId);
    this.totalChars -= e.chars;
  }

  /** Entries held (for tests and diagnostics). */
  get size(): number {
    return this.runs.size;
  }
}
