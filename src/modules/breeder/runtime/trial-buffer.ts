/**
 * Trials a loop slot ran while the database was away, kept in memory until it answers again (the "running
 * breeders continue through a database outage"). Two kinds: a trial whose number was claimed before the outage
 * (its `running` row exists; writing its end is idempotent, since the end is written only over a running row) and
 * a trial that started during the outage and has no number yet (written with a key of its own, so a second attempt
 * after a lost answer finds it instead of adding it twice). The buffer is bounded: a full buffer makes the slot wait
 * for the database rather than drop a trial. It lives in the worker's memory only: a worker that dies during the
 * outage loses what it buffered (docs/breeder.md).
 */
import { isTransient, newId } from '../../../kernel/index.ts';
import type { Params } from '../model/space.ts';
import type { TrialRecord } from '../samplers/index.ts';
import type { BreederStore, TrialOutcome, UnnumberedTrial } from '../store/index.ts';

/** One buffered trial. */
export type BufferedTrial = { kind: 'numbered'; number: number; params: Params; outcome: TrialOutcome } | ({ kind: 'unnumbered' } & UnnumberedTrial);

/** A buffered trial that reached the database: its number, and whether this write recorded it (not an earlier one). */
export interface Written {
  trial: BufferedTrial;
  number: number;
  recorded: boolean;
}

/** The bounded buffer of one slot. */
export class TrialBuffer {
  private readonly items: BufferedTrial[] = [];

  constructor(
    private readonly limit: number,
    /** Called with +1 / −1 as trials enter and leave (the buffered-trials gauge). */
    private readonly onChange: (delta: number) => void = () => {},
  ) {}

  get size(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.limit;
  }

  /** Trials without a number: each will take one when written. */
  get unnumbered(): number {
    return this.items.filter((t) => t.kind === 'unnumbered').length;
  }

  /** Numbers whose end is buffered (their stored row still says running). */
  numbers(): Set<number> {
    return new Set(this.items.flatMap((t) => (t.kind === 'numbered' ? [t.number] : [])));
  }

  /** Keeps the end of a trial whose number was claimed. */
  addNumbered(number: number, params: Params, outcome: TrialOutcome): void {
    this.push({ kind: 'numbered', number, params, outcome });
  }

  /** Keeps a trial that has no number yet. */
  addUnnumbered(t: Omit<UnnumberedTrial, 'key'>): void {
    this.push({ kind: 'unnumbered', key: newId(), ...t });
  }

  private push(t: BufferedTrial): void {
    this.items.push(t);
    this.onChange(1);
  }

  /** The buffered trials as the sampler sees them, oldest first (so it learns from them before they are written). */
  records(): TrialRecord[] {
    return this.items.map((t) => ({ params: t.params, values: t.outcome.values as number[] | null, state: t.outcome.state, constraints: t.outcome.constraints }));
  }

  /**
   * Writes the buffered trials oldest first and forgets each once written. Stops at the first transient error (the
   * database is still away; the rest stay) and returns what was written; any other error is thrown.
   */
  async flush(store: BreederStore, breeder: { id: string; name: string }): Promise<Written[]> {
    const written: Written[] = [];
    while (this.items.length) {
      const t = this.items[0]!;
      try {
        if (t.kind === 'numbered') {
          const recorded = await store.trials.finish(breeder, t.number, t.params, t.outcome);
          written.push({ trial: t, number: t.number, recorded });
        } else {
          const r = await store.trials.record(breeder, t);
          written.push({ trial: t, number: r.number, recorded: r.fresh });
        }
      } catch (err) {
        if (isTransient(err)) break;
        throw err;
      }
      this.items.shift();
      this.onChange(-1);
    }
    return written;
  }
}
