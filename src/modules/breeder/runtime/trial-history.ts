/**
 * A loop slot's copy of a breeder's trials. A trial that ended (complete, fail, pruned) is never written again, and
 * numbers are handed out in order with their rows, so each refresh reads only the trials from the oldest one that was
 * still running (or unseen) at the last read: a turn's history read stays a few rows instead of the whole history,
 * and the sampler gets the same record objects for unchanged trials (its caches key on them).
 */
import type { TrialRecord } from '../samplers/index.ts';
import type { TrialRow } from '../store/index.ts';
import { toRecord } from './loop-records.ts';

/** The trials with numbers ≥ `from`, by number. */
export type ReadTrialsFrom = (from: number) => Promise<TrialRow[]>;

/** The trials of one breeder, refreshed incrementally. */
export class TrialHistory {
  private rows: TrialRow[] = [];
  private recs: TrialRecord[] = [];

  constructor(private readonly read: ReadTrialsFrom) {}

  /** What the last refresh read (the database is away: the sampler goes on with it). */
  cached(): { rows: readonly TrialRow[]; records: readonly TrialRecord[] } {
    return { rows: this.rows, records: this.recs };
  }

  /** The number the next read starts at: the oldest trial still running at the last read, else the next unseen one. */
  from(): number {
    const keep = this.kept();
    return keep < this.rows.length ? this.rows[keep]!.number : this.rows.length ? this.rows[this.rows.length - 1]!.number + 1 : 0;
  }

  /** Takes the trials numbered `from()` or more (read by the caller, e.g. together with its claim); returns every trial. */
  apply(fresh: readonly TrialRow[]): { rows: readonly TrialRow[]; records: readonly TrialRecord[] } {
    const keep = this.kept();
    this.rows = [...this.rows.slice(0, keep), ...fresh];
    this.recs = [...this.recs.slice(0, keep), ...fresh.map(toRecord)];
    return { rows: this.rows, records: this.recs };
  }

  /** Reads what may have changed since the last refresh; returns every trial by number, with its record. */
  async refresh(): Promise<{ rows: readonly TrialRow[]; records: readonly TrialRecord[] }> {
    return this.apply(await this.read(this.from()));
  }

  /** How many leading trials have ended (they are never written again, so they are kept). */
  private kept(): number {
    let keep = 0;
    while (keep < this.rows.length && this.rows[keep]!.state !== 'running') keep++;
    return keep;
  }
}
