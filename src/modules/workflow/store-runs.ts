/** Writing runs: create, compare-and-set transition, data deletion; each one transaction with history and outbox rows. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { Conflict, NotFound, enqueueEvent, newId, notifyOutboxWritten, type Database, type Db } from '../../kernel/index.ts';
import { ACTIVE_RUN_STATES, assertRunStateTransition, runStatesLeadingTo, type RunState } from './run-state.ts';
import { ACTIVE_RUN_PREDICATE, workflowHistory, workflowRuns } from './schema.ts';
import { inTx, toStoredRun } from './store-rows.ts';
import type { InTransaction, NewRun, RunEvents, RunPatch, StoredRun, WriteOptions } from './store-types.ts';

// Data can be deleted once a run is over; luno's path is completed|cancelled -> requestedDataDeleted -> dataDeleted.
const DELETABLE: RunState[] = ['completed', 'cancelled', 'requestedDataDeleted', 'dataDeleted'];

// A run that finished between our insert and our lookup frees the slot; try the insert again a few times.
const CREATE_ATTEMPTS = 3;

/** Where a failed compare-and-set went wrong: NotFound, a stale version, or a run-state move that is not allowed. */
export async function explainMiss(tx: Db, runId: string, expectedVersion: number | undefined, to: RunState | undefined): Promise<never> {
  // A new statement: under READ COMMITTED it sees the concurrent writer that beat us.
  const [cur] = await tx.select({ version: workflowRuns.version, runState: workflowRuns.runState }).from(workflowRuns).where(eq(workflowRuns.runId, runId));
  if (!cur) throw new NotFound(`workflow run '${runId}'`);
  if (expectedVersion !== undefined && cur.version !== expectedVersion) {
    throw new Conflict(`workflow run '${runId}' is at version ${cur.version}, not ${expectedVersion}`, { runId, expectedVersion, currentVersion: cur.version });
  }
  if (to) assertRunStateTransition(cur.runState, to);
  throw new Conflict(`workflow run '${runId}' changed concurrently`, { runId, expectedVersion, currentVersion: cur.version });
}

/** The run writers of the record store. */
export function runWriters(db: Database) {
  /** inTx, then (when this call owned the transaction, so it has committed) wakes the outbox relay. */
  async function committed<T>(tx: Db | undefined, fn: (tx: Db) => Promise<T>): Promise<T> {
    const out = await inTx(db, tx, fn);
    if (!tx) notifyOutboxWritten();
    return out;
  }

  /**
   * Appends the history row and the outbox events (pipelined on the transaction's connection, so one round
   * trip), then runs the caller's in-transaction work.
   */
  async function afterWrite(tx: Db, run: StoredRun, objectWritten: boolean, events: RunEvents | undefined, extra: InTransaction | undefined): Promise<void> {
    const list = typeof events === 'function' ? events(run) : (events ?? []);
    await Promise.all([
      tx.insert(workflowHistory).values({
        runId: run.runId,
        version: run.version,
        status: run.status,
        runState: run.runState,
        statusDescription: run.statusDescription,
        reason: run.reason,
        object: objectWritten ? run.object : null,
      }),
      ...list.map((e) => enqueueEvent(tx, { ...e, correlationId: e.correlationId ?? run.runId })),
    ]);
    if (extra) await extra(tx, run);
  }

  return {
    /** Inserts a run at version 1 with its history row and a `workflow.run.created` event (then `opts.events`). */
    createRun(input: NewRun, tx?: Db, opts: Omit<WriteOptions, 'tx'> = {}): Promise<StoredRun> {
      return committed(tx, async (tx) => {
        const runState = input.runState ?? 'initiated';
        for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
          // The partial unique index decides; DO NOTHING (not an error) keeps a caller's transaction usable.
          const [row] = await tx
            .insert(workflowRuns)
            .values({ runId: newId(), workflow: input.workflow, foreignId: input.foreignId, status: input.status, runState, object: input.object ?? null, version: 1, statusDescription: input.statusDescription ?? null })
            .onConflictDoNothing({ target: [workflowRuns.workflow, workflowRuns.foreignId], where: sql.raw(ACTIVE_RUN_PREDICATE) })
            .returning();
          if (row) {
            const run = toStoredRun(row);
            const created = { type: 'workflow.run.created', data: { runId: run.runId, workflow: run.workflow, foreignId: run.foreignId, status: run.status, runState: run.runState, version: run.version } };
            const more = opts.events;
            await afterWrite(tx, run, true, (r) => [created, ...(typeof more === 'function' ? more(r) : (more ?? []))], opts.inTransaction);
            return run;
          }
          const [active] = await tx
            .select({ runId: workflowRuns.runId })
            .from(workflowRuns)
            .where(and(eq(workflowRuns.workflow, input.workflow), eq(workflowRuns.foreignId, input.foreignId), inArray(workflowRuns.runState, [...ACTIVE_RUN_STATES])));
          if (active) {
            throw new Conflict(`workflow '${input.workflow}' already has an active run for foreign id '${input.foreignId}'`, { activeRunId: active.runId, workflow: input.workflow, foreignId: input.foreignId });
          }
        }
        throw new Conflict(`workflow '${input.workflow}' keeps getting a new active run for foreign id '${input.foreignId}'`, { workflow: input.workflow, foreignId: input.foreignId });
      });
    },

    /**
     * Applies `patch` if the run is at `expectedVersion` (compare-and-set in the UPDATE's WHERE, which also
     * checks the run-state move), bumps the version, appends history and writes `events`, in one transaction.
     * Conflict when stale or the move is not allowed, NotFound when the run does not exist.
     */
    transition(runId: string, expectedVersion: number, patch: RunPatch, events: RunEvents = [], opts: Omit<WriteOptions, 'events'> = {}): Promise<StoredRun> {
      return committed(opts.tx, async (tx) => {
        const set: PgUpdateSetSource<typeof workflowRuns> = { version: sql`${workflowRuns.version} + 1`, updatedAt: sql`now()` };
        if (patch.status !== undefined) set.status = patch.status;
        if (patch.runState !== undefined) set.runState = patch.runState;
        if (patch.object !== undefined) set.object = patch.object;
        if (patch.statusDescription !== undefined) set.statusDescription = patch.statusDescription;
        if (patch.reason !== undefined) set.reason = patch.reason;
        const guard = patch.runState ? inArray(workflowRuns.runState, runStatesLeadingTo(patch.runState)) : undefined;
        const [row] = await tx
          .update(workflowRuns)
          .set(set)
          .where(and(eq(workflowRuns.runId, runId), eq(workflowRuns.version, expectedVersion), guard))
          .returning();
        if (!row) return explainMiss(tx, runId, expectedVersion, patch.runState);
        const run = toStoredRun(row);
        await afterWrite(tx, run, patch.object !== undefined, events, opts.inTransaction);
        return run;
      });
    },

    /**
     * Replaces a finished run's object with `scrubbed` and sets run state dataDeleted (luno's
     * requestedDataDeleted step is folded into the same transaction). History rows stay, without their objects.
     * Conflict for an active run, NotFound for an unknown one.
     */
    deleteData(runId: string, scrubbed: unknown, opts: Omit<WriteOptions, 'inTransaction'> = {}): Promise<StoredRun> {
      return committed(opts.tx, async (tx) => {
        const [row] = await tx
          .update(workflowRuns)
          .set({ object: scrubbed ?? null, runState: 'dataDeleted', version: sql`${workflowRuns.version} + 1`, updatedAt: sql`now()` })
          .where(and(eq(workflowRuns.runId, runId), inArray(workflowRuns.runState, DELETABLE)))
          .returning();
        if (!row) return explainMiss(tx, runId, undefined, 'requestedDataDeleted');
        await tx.update(workflowHistory).set({ object: null }).where(eq(workflowHistory.runId, runId));
        const run = toStoredRun(row);
        await afterWrite(tx, run, true, opts.events, undefined);
        return run;
      });
    },
  };
}
