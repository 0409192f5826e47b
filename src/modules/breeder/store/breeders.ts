/** Breeder rows: create, read, update, delete, and the status changes (start, stop, complete) with their events in one transaction. */
import { and, asc, eq, ne, sql } from 'drizzle-orm';
import { Conflict, enqueueEvent, newId, notifyOutboxWritten, NotFound, pgError, type Database } from '../../../kernel/index.ts';
import type { Definition } from '../model/definition.ts';
import { BreederCompleted, BreederFailed, BreederStarted, BreederStopped, type CompletionReason } from '../model/events.ts';
import { iso, type BreederRow } from './rows.ts';
import { breederBreeders, breederTrials, type BreederStatus } from './schema.ts';

type Raw = typeof breederBreeders.$inferSelect;

function toRow(r: Raw): BreederRow {
  return {
    id: r.id,
    name: r.name,
    definition: r.definition as Definition,
    status: r.status as BreederStatus,
    generation: r.generation,
    nextNumber: r.nextNumber,
    reason: r.reason,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    createdAt: iso(r.createdAt)!,
    updatedAt: iso(r.updatedAt)!,
  };
}

function isUniqueViolation(err: unknown): boolean {
  return pgError(err)?.code === '23505';
}

/** Breeder reads and writes. */
export function breederRows(database: Database) {
  const { db } = database;
  const byId = (id: string) => eq(breederBreeders.id, id);

  /**
   * One breeder by id or name. An id wins over a name: definitions refuse names of the id's shape, but a row
   * written before that rule (or straight into the table) may still carry one, and the loop reads by id.
   */
  async function get(idOrName: string): Promise<BreederRow> {
    const rows = await db
      .select()
      .from(breederBreeders)
      .where(sql`${breederBreeders.id} = ${idOrName} OR ${breederBreeders.name} = ${idOrName}`)
      .orderBy(sql`${breederBreeders.id} = ${idOrName} DESC`)
      .limit(1);
    if (!rows[0]) throw new NotFound(`breeder '${idOrName}'`);
    return toRow(rows[0]);
  }

  return {
    get,
    /** Every breeder, oldest first. */
    async list(): Promise<BreederRow[]> {
      return (await db.select().from(breederBreeders).orderBy(asc(breederBreeders.createdAt), asc(breederBreeders.id))).map(toRow);
    },
    /** The other breeders of a cooperation group, oldest first. */
    async groupMembers(group: string, exceptId: string): Promise<BreederRow[]> {
      const rows = await db
        .select()
        .from(breederBreeders)
        .where(and(sql`${breederBreeders.definition}->'cooperation'->>'group' = ${group}`, ne(breederBreeders.id, exceptId)))
        .orderBy(asc(breederBreeders.createdAt), asc(breederBreeders.id));
      return rows.map(toRow);
    },
    /** Creates a breeder; Conflict when the name is taken. */
    async create(def: Definition): Promise<BreederRow> {
      try {
        const [row] = await db.insert(breederBreeders).values({ id: newId(), name: def.name, definition: def }).returning();
        return toRow(row!);
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`a breeder named '${def.name}' exists`);
        throw err;
      }
    },
    /** Replaces the definition of a breeder that is not running. */
    async replace(id: string, def: Definition): Promise<BreederRow> {
      try {
        const [row] = await db
          .update(breederBreeders)
          .set({ definition: def, name: def.name, updatedAt: sql`now()` })
          .where(and(byId(id), ne(breederBreeders.status, 'running')))
          .returning();
        if (!row) throw new Conflict('stop the breeder before changing its definition');
        return toRow(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`a breeder named '${def.name}' exists`);
        throw err;
      }
    },
    /** Deletes a breeder that is not running, with its trials. */
    async remove(id: string): Promise<void> {
      await database.transaction(async (tx) => {
        const gone = await tx.delete(breederBreeders).where(and(byId(id), ne(breederBreeders.status, 'running'))).returning({ id: breederBreeders.id });
        if (!gone[0]) throw new Conflict('stop the breeder before deleting it');
        await tx.delete(breederTrials).where(eq(breederTrials.breederId, id));
      });
    },
    /**
     * running: a new generation. Conflict when already running, or when max_trials are used up: its slots would claim
     * nothing and complete it again at once, which looks like a start that did nothing (raise run.max_trials first).
     */
    async start(id: string): Promise<BreederRow> {
      const row = await database.transaction(async (tx) => {
        const [r] = await tx
          .update(breederBreeders)
          .set({ status: 'running', generation: sql`${breederBreeders.generation} + 1`, reason: null, startedAt: sql`now()`, finishedAt: null, updatedAt: sql`now()` })
          .where(and(byId(id), ne(breederBreeders.status, 'running'), sql`${breederBreeders.nextNumber} < (${breederBreeders.definition}->'run'->>'max_trials')::int`))
          .returning();
        if (!r) return undefined;
        await enqueueEvent(tx, BreederStarted.outbox({ breederId: r.id, name: r.name, generation: r.generation }));
        return toRow(r);
      });
      if (!row) {
        const b = await get(id);
        if (b.status === 'running') throw new Conflict('the breeder is running already');
        throw new Conflict(`all ${b.definition.run.max_trials} trials of run.max_trials are used; raise run.max_trials (PUT the definition) to run more`);
      }
      notifyOutboxWritten();
      return row;
    },
    /** stopped, from running; Conflict otherwise. Workers see it before their next trial. */
    async stop(id: string): Promise<BreederRow> {
      const row = await database.transaction(async (tx) => {
        const [r] = await tx
          .update(breederBreeders)
          .set({ status: 'stopped', reason: 'stopped by a user', finishedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(byId(id), eq(breederBreeders.status, 'running')))
          .returning();
        if (!r) return undefined;
        await enqueueEvent(tx, BreederStopped.outbox({ breederId: r.id, name: r.name }));
        return toRow(r);
      });
      if (!row) throw new Conflict('the breeder is not running');
      notifyOutboxWritten();
      return row;
    },
    /** stopped by the loop itself (a rollback's pause or stop), from running in `generation`; false when already ended. */
    async halt(id: string, generation: number, reason: string): Promise<boolean> {
      const done = await database.transaction(async (tx) => {
        const [r] = await tx
          .update(breederBreeders)
          .set({ status: 'stopped', reason, finishedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(byId(id), eq(breederBreeders.status, 'running'), eq(breederBreeders.generation, generation)))
          .returning();
        if (!r) return false;
        await enqueueEvent(tx, BreederStopped.outbox({ breederId: r.id, name: r.name }));
        return true;
      });
      if (done) notifyOutboxWritten();
      return done;
    },
    /** completed, once, from running in `generation`; false when another worker (or a stop) got there first. */
    async complete(id: string, generation: number, reason: CompletionReason): Promise<boolean> {
      const done = await database.transaction(async (tx) => {
        const [r] = await tx
          .update(breederBreeders)
          .set({ status: 'completed', reason, finishedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(byId(id), eq(breederBreeders.status, 'running'), eq(breederBreeders.generation, generation)))
          .returning();
        if (!r) return false;
        await enqueueEvent(tx, BreederCompleted.outbox({ breederId: r.id, name: r.name, reason }));
        return true;
      });
      if (done) notifyOutboxWritten();
      return done;
    },
    /** failed, from running in `generation`: the loop cannot go on (its sampler cannot be built or threw); false when already ended. */
    async fail(id: string, generation: number, reason: string): Promise<boolean> {
      const done = await database.transaction(async (tx) => {
        const [r] = await tx
          .update(breederBreeders)
          .set({ status: 'failed', reason, finishedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(byId(id), eq(breederBreeders.status, 'running'), eq(breederBreeders.generation, generation)))
          .returning();
        if (!r) return false;
        await enqueueEvent(tx, BreederFailed.outbox({ breederId: r.id, name: r.name, reason }));
        return true;
      });
      if (done) notifyOutboxWritten();
      return done;
    },
  };
}
