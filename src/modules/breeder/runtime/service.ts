/** The breeder service: what the routes, the CLI (through them) and the actions call. */
import { BODY, Conflict, Invalid, isTransient, namedUnder, NotFound, type JobQueue, type Logger } from '../../../kernel/index.ts';
import { parseDefinition, type Definition } from '../model/definition.ts';
import { bestTrial, paretoFront } from '../samplers/index.ts';
import type { BreederRow, BreederStore, TrialRow } from '../store/index.ts';
import { BREEDER_QUEUE, slotJobId, toRecord, type SlotJob } from './loop.ts';
import type { StopRequests } from './stop-requests.ts';

/** JSON with object keys sorted: jsonb hands keys back in its own order, so plain JSON.stringify would differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** A breeder as the API shows it: the row plus trial counts. */
export type BreederView = BreederRow & { trials: Record<string, number> };

/** Service settings from the module config. */
export interface ServiceOptions {
  commandsEnabled: boolean;
  /** Where a stop goes while the database is away (runtime/stop-requests.ts). */
  stops?: StopRequests;
  /** How often a stop asked for while both the database and NATS were away is tried against the database (ms). */
  stopRetryMs?: number;
}

/** The answer to a stop asked for while the database is away (202): the loops stop now, the status follows. */
export interface PendingStop {
  breeder: string;
  status: 'stop_pending';
  requestedAt: string;
  /** Who has been told: every instance's loops (the KV holds the request) or only this instance's (NATS is away too). */
  reaches: 'every_instance' | 'this_instance';
  detail: string;
}

/** Creates, changes, starts and stops breeders; reads their results. */
export class BreederService {
  constructor(
    private readonly store: BreederStore,
    private readonly queue: JobQueue,
    private readonly opts: ServiceOptions,
    private readonly log: Logger,
  ) {}

  /** Parses and checks a definition (the request body: Invalid names `body.<field>`) against this server's policy. */
  private check(input: unknown): Definition {
    return namedUnder(BODY, () => {
      const def = parseDefinition(input);
      if (def.effectuation.command && !this.opts.commandsEnabled) {
        throw new Invalid('command effectuation is disabled on this server', [{ path: 'effectuation.command', message: 'disabled (modules.breeder.commandEffectuation: false)' }]);
      }
      return def;
    });
  }

  private async view(row: BreederRow): Promise<BreederView> {
    return { ...row, trials: await this.store.trials.counts(row.id) };
  }

  /** Creates a breeder (status created). */
  async create(input: unknown): Promise<BreederView> {
    return this.view(await this.store.create(this.check(input)));
  }

  /** Replaces a stopped breeder's definition; a space or objective change with trials needs `force`. */
  async replace(id: string, input: unknown, force: boolean): Promise<BreederView> {
    const row = await this.store.get(id);
    const def = this.check(input);
    const counts = await this.store.trials.counts(row.id);
    const hasTrials = Object.values(counts).some((n) => n > 0);
    const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);
    const changed = !same(row.definition.space, def.space) || !same(row.definition.objectives.map((o) => [o.name, o.direction]), def.objectives.map((o) => [o.name, o.direction]));
    if (hasTrials && changed && !force) {
      throw new Invalid('the space or the objectives changed while trials exist', [{ path: 'query.force', message: 'set force=true to change them anyway' }]);
    }
    return this.view(await this.store.replace(row.id, def));
  }

  /** One breeder by id or name. */
  async get(id: string): Promise<BreederView> {
    return this.view(await this.store.get(id));
  }

  /** Every breeder. */
  async list(): Promise<BreederView[]> {
    return Promise.all((await this.store.list()).map((r) => this.view(r)));
  }

  /** Deletes a breeder that is not running. */
  async remove(id: string): Promise<void> {
    await this.store.remove((await this.store.get(id)).id);
  }

  /** Starts a breeder: a new generation and one long job per worker slot. */
  async start(id: string): Promise<BreederView> {
    const row = await this.store.start((await this.store.get(id)).id);
    await this.enqueue(row);
    return this.view(row);
  }

  /**
   * Stops a running breeder before its next trial. With the database away, the request goes to the running loops
   * through the KV instead: they start no new trial and record the stop when the database answers (PendingStop).
   */
  async stop(id: string): Promise<BreederView | PendingStop> {
    let row: BreederRow;
    try {
      row = await this.store.get(id);
    } catch (err) {
      if (!isTransient(err) || !this.opts.stops) throw err;
      const r = await this.opts.stops.request(id).catch((kvErr: unknown) => {
        this.log.warn({ breeder: id, err: String(kvErr) }, 'a stop could not be passed on while the database is away');
        throw err; // the database's error is the one to answer with (503)
      });
      if (!r.shared) {
        this.log.warn({ breeder: id }, 'stop asked for while the database and NATS are away: told to this instance\'s loops, kept in memory until one of them answers');
        this.recordWhenBack(id, r.requestedAt);
        return {
          breeder: id,
          status: 'stop_pending',
          requestedAt: r.requestedAt,
          reaches: 'this_instance',
          detail:
            'the database and NATS are both away: this instance\'s running loops of the breeder start no new trial from now on (the trial in progress finishes); the request is kept in this instance\'s memory and passed on as soon as NATS (to the other instances\' loops) or the database (as the stopped status) answers; loops on other instances go on until then, and the request is lost if this instance ends first',
        };
      }
      this.log.warn({ breeder: id }, 'stop asked for while the database is away: passed to the running loops; recorded when the database answers');
      return {
        breeder: id,
        status: 'stop_pending',
        requestedAt: r.requestedAt,
        reaches: 'every_instance',
        detail: 'the database is away: running loops start no new trial from now on (the trial in progress finishes); the breeder shows as stopped once the database answers again',
      };
    }
    return this.view(await this.store.stop(row.id));
  }

  /**
   * A stop that only this instance holds (the database and NATS were both away) is written to the database as soon as
   * it answers, so loops elsewhere see it as a refused claim even if none of this instance's loops runs the breeder. It
   * applies only to a breeder started before it was asked for; a stop already written (by a loop of this instance
   * that heard it, or by anyone) ends the retries.
   */
  private recordWhenBack(idOrName: string, requestedAt: string): void {
    const stops = this.opts.stops!;
    const attempt = async () => {
      if (stops.isClosed) return;
      try {
        const row = await this.store.get(idOrName);
        if (row.status === 'running' && Date.parse(row.startedAt ?? '') <= Date.parse(requestedAt)) {
          await this.store.stop(row.id).catch((err: unknown) => {
            if (!(err instanceof Conflict)) throw err; // a loop got there first
          });
          this.log.info({ breeder: row.name }, 'recorded a stop asked for while the database and NATS were away');
        }
        stops.forget({ id: row.id, name: row.name });
      } catch (err) {
        if (err instanceof NotFound) return stops.forget(idOrName);
        if (!isTransient(err)) return void this.log.error({ breeder: idOrName, err: String(err) }, 'cannot record a stop asked for while the database was away');
        setTimeout(attempt, this.opts.stopRetryMs ?? 2_000).unref?.();
      }
    };
    setTimeout(attempt, this.opts.stopRetryMs ?? 2_000).unref?.();
  }

  /** Enqueues the slots of a running breeder; job ids make this idempotent per start. */
  async enqueue(row: BreederRow): Promise<void> {
    const jobs = Array.from({ length: row.definition.run.workers }, (_, slot) => {
      const data: SlotJob = { breederId: row.id, generation: row.generation, slot };
      return { name: 'slot', data, opts: { jobId: slotJobId(data), attempts: 20, backoff: { type: 'exponential' as const, delayMs: 1000 } } };
    });
    await this.queue.addBulk(BREEDER_QUEUE, jobs);
  }

  /** Re-enqueues every running breeder (after a restart of an embedded server, whose queue lived in memory). */
  async resumeRunning(): Promise<number> {
    const running = (await this.store.list()).filter((b) => b.status === 'running');
    for (const b of running) await this.enqueue(b);
    if (running.length) this.log.info({ breeders: running.map((b) => b.name) }, 'resumed running breeders');
    return running.length;
  }

  /** A page of trials (by number, after `after`). */
  async trials(id: string, after: number, limit: number, state?: string): Promise<{ items: TrialRow[]; nextAfter: number | null }> {
    const row = await this.store.get(id);
    const items = await this.store.trials.page(row.id, after, limit + 1, state);
    const more = items.length > limit;
    const page = items.slice(0, limit);
    return { items: page, nextAfter: more ? page[page.length - 1]!.number : null };
  }

  /** Every trial of a breeder by number (the console's plots). */
  async allTrials(id: string): Promise<TrialRow[]> {
    return this.store.trials.all((await this.store.get(id)).id);
  }

  /** The best feasible complete trial of a single-objective breeder (first objective otherwise), or null. */
  async best(id: string): Promise<TrialRow | null> {
    const row = await this.store.get(id);
    const trials = await this.store.trials.all(row.id);
    const i = bestTrial(trials.map(toRecord), row.definition.objectives[0]!.direction);
    return i === null ? null : trials[i]!;
  }

  /** The Pareto front over all objectives. */
  async pareto(id: string): Promise<TrialRow[]> {
    const row = await this.store.get(id);
    const trials = await this.store.trials.all(row.id);
    return paretoFront(trials.map(toRecord), row.definition.objectives.map((o) => o.direction)).map((i) => trials[i]!);
  }
}
