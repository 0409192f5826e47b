/** The record store's one-statement writes: `createRun` and the grouped transition `move`. */
import { and, asc, eq, isNull } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/kernel/db/port.ts';
import { Conflict, Invalid, NotFound } from '../../src/kernel/errors.ts';
import { workflowHistory, workflowRuns, workflowTimeouts } from '../../src/modules/workflow/store/schema.ts';
import type { RunRecord } from '../../src/modules/workflow/model/run.ts';
import { createRecordStore, type RecordStore } from '../../src/modules/workflow/store/index.ts';
import { rejection } from '../helpers/async.ts';
import { uniqueName } from '../helpers/env.ts';
import { outboxOf } from './workflow-store-helpers.ts';

const statusEvent = (after: RunRecord) => [{ type: 'workflow.run.status_changed', data: { runId: after.runId, status: after.status, version: after.version }, route: [after.workflow, after.status] }];

/**
 * The database, except that the first statement commits and then its answer is lost (the connection drops: a
 * transient error); `beforeLoss` runs in between, with the rows that never arrive.
 */
function losingFirstAnswer(db: Database, beforeLoss?: (rows: unknown[]) => Promise<void>): Database {
  let lost = 0;
  return {
    ...db,
    query: async (text, params) => {
      const rows = await db.query(text, params);
      if (lost++ === 0) {
        await beforeLoss?.(rows);
        throw Object.assign(new Error('connection closed before the answer'), { code: 'CONNECTION_CLOSED' });
      }
      return rows;
    },
  } as Database;
}

/** Registers the move tests; `ctx` gives the migrated store and its database. */
export function workflowMoveContract(ctx: () => { store: RecordStore; db: Database }): void {
  describe('createRun (one statement)', () => {
    it('creates a run with its history row, created + given events and a timeout; a second create of the foreign id is a Conflict naming it', async () => {
      const { store, db } = ctx();
      const workflow = uniqueName('st');
      const armAt = new Date(Date.now() + 60_000);
      const run = await store.createRun({ workflow, foreignId: 'f-1', status: 'a', runState: 'running', object: { n: 1 } }, statusEvent, armAt);
      expect(run).toMatchObject({ workflow, foreignId: 'f-1', status: 'a', runState: 'running', version: 1, object: { n: 1 }, reason: null, statusDescription: null });
      expect(await store.lookup(run.runId)).toEqual(run);
      expect((await outboxOf(db, run.runId)).map((e) => [e.type, e.subject])).toEqual([
        ['workflow.run.created', null],
        ['workflow.run.status_changed', `workflow.run.status_changed.${workflow}.a`],
      ]);
      const hist = await db.db.select().from(workflowHistory).where(eq(workflowHistory.runId, run.runId));
      expect(hist.map((h) => [h.version, h.status, h.object])).toEqual([[1, 'a', { n: 1 }]]);
      const timeouts = await db.db.select().from(workflowTimeouts).where(eq(workflowTimeouts.runId, run.runId));
      expect(timeouts.map((t) => [t.status, t.expiresAt.getTime()])).toEqual([['a', armAt.getTime()]]);
      const err = await rejection(store.createRun({ workflow, foreignId: 'f-1', status: 'a', runState: 'running' }, statusEvent));
      expect(err).toBeInstanceOf(Conflict);
      expect((err as Conflict).details).toMatchObject({ activeRunId: run.runId });
    });

    it('a create whose answer was lost after it committed returns its own run (retried, not a Conflict naming itself)', async () => {
      const { db } = ctx();
      const workflow = uniqueName('st');
      const flaky = createRecordStore(losingFirstAnswer(db));
      const run = await flaky.createRun({ workflow, foreignId: 'f-lost', status: 'a', runState: 'running' }, statusEvent);
      expect(run).toMatchObject({ workflow, foreignId: 'f-lost', status: 'a', version: 1 });
      const rows = await db.db.select().from(workflowRuns).where(eq(workflowRuns.workflow, workflow));
      expect(rows.map((r) => r.runId)).toEqual([run.runId]);
      expect((await outboxOf(db, run.runId)).map((e) => e.type)).toEqual(['workflow.run.created', 'workflow.run.status_changed']);
    });

    it('a create whose answer was lost, of a run that finished before the retry, returns that run too', async () => {
      const { store, db } = ctx();
      const workflow = uniqueName('st');
      // Before the retry, the new run is moved on and completes (as another instance's consumer could).
      const flaky = createRecordStore(
        losingFirstAnswer(db, async (rows) => {
          const started = rows[0] as { run_id: string };
          await store.move((await store.lookup(started.run_id))!, { status: 'done', runState: 'completed' }, () => []);
        }),
      );
      const run = await flaky.createRun({ workflow, foreignId: 'f-done', status: 'a', runState: 'running' }, statusEvent);
      expect(run).toMatchObject({ workflow, foreignId: 'f-done', runState: 'completed', version: 2 });
      const rows = await db.db.select().from(workflowRuns).where(eq(workflowRuns.workflow, workflow));
      expect(rows.map((r) => r.runId)).toEqual([run.runId]);
    });

    it('of 10 concurrent creates of one foreign id exactly one wins; the others name the winner', async () => {
      const { store } = ctx();
      const workflow = uniqueName('st');
      const results = await Promise.allSettled([...Array(10).keys()].map(() => store.createRun({ workflow, foreignId: 'same', status: 'a', runState: 'initiated' }, () => [])));
      const won = results.filter((r): r is PromiseFulfilledResult<RunRecord> => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as Conflict).details).toMatchObject({ activeRunId: won[0]!.value.runId });
    });
  });

  describe('move (one statement, grouped under load)', () => {
    async function runs(n: number): Promise<RunRecord[]> {
      const workflow = uniqueName('mv');
      const { store } = ctx();
      return Promise.all([...Array(n).keys()].map((i) => store.createRun({ workflow, foreignId: `f-${i}`, status: 'a', runState: 'running', object: { i } }, () => [])));
    }

    it('moves 60 runs at once: each gets its own new version, object, history row and routed event', async () => {
      const { store, db } = ctx();
      const all = await runs(60);
      const moved = await Promise.all(all.map((r, i) => store.move(r, { status: 'b', object: { i, moved: true }, statusDescription: `d${i}` }, statusEvent)));
      for (const [i, m] of moved.entries()) {
        expect(m).toMatchObject({ runId: all[i]!.runId, status: 'b', runState: 'running', version: 2, object: { i, moved: true }, statusDescription: `d${i}`, foreignId: `f-${i}` });
        expect(m.updatedAt.getTime()).toBeGreaterThanOrEqual(all[i]!.updatedAt.getTime());
        expect(m.createdAt).toEqual(all[i]!.createdAt);
        expect(await store.lookup(m.runId)).toEqual(m);
      }
      const r0 = all[0]!;
      const hist = await db.db.select().from(workflowHistory).where(eq(workflowHistory.runId, r0.runId)).orderBy(asc(workflowHistory.id));
      expect(hist.map((h) => [h.version, h.status, h.object])).toEqual([
        [1, 'a', { i: 0 }],
        [2, 'b', { i: 0, moved: true }],
      ]);
      const events = await outboxOf(db, r0.runId);
      const changed = events.filter((e) => e.type === 'workflow.run.status_changed');
      expect(changed.map((e) => [e.subject, e.data])).toEqual([[`workflow.run.status_changed.${r0.workflow}.b`, { runId: r0.runId, status: 'b', version: 2 }]]);
    });

    it('in one group, a stale move gets Conflict and an unknown run NotFound, while the others move', async () => {
      const { store } = ctx();
      const [a, b, c] = await runs(3);
      const stale = { ...b!, version: 7 };
      const ghost = { ...c!, runId: uniqueName('ghost') };
      const results = await Promise.allSettled([store.move(a!, { status: 'b' }, statusEvent), store.move(stale, { status: 'b' }, statusEvent), store.move(ghost, { status: 'b' }, statusEvent), store.move(c!, { status: 'b' }, statusEvent)]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(Conflict);
      expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(NotFound);
      expect((await store.lookup(b!.runId))?.version).toBe(1);
    });

    it('refuses a move with text PostgreSQL cannot store (NUL, unpaired surrogate) as Invalid naming the field, without failing the moves grouped with it', async () => {
      const { db } = ctx();
      let statements = 0;
      // A store counting its statements: a bad move that reached a group would fail it, and every move in it would be sent again on its own.
      const counted = createRecordStore({ ...db, query: (text, params) => (statements++, db.query(text, params)) } as Database);
      const all = await runs(10);
      const bad = [{ object: { note: 'a\u0000b' } }, { statusDescription: 'x\ud800' }];
      const results = await Promise.allSettled(all.map((r, i) => counted.move(r, { status: 'b', ...(i >= 8 ? bad[i - 8] : { object: { i, text: 'back\\u0000slash \ud83d\ude00' } }) }, statusEvent)));
      expect(results.map((r) => r.status)).toEqual([...Array(8).fill('fulfilled'), 'rejected', 'rejected']);
      expect((results[8] as PromiseRejectedResult).reason).toBeInstanceOf(Invalid);
      expect(((results[8] as PromiseRejectedResult).reason as Invalid).issues.map((i) => i.path)).toEqual(['object.note']);
      expect(((results[9] as PromiseRejectedResult).reason as Invalid).issues.map((i) => i.path)).toEqual(['statusDescription']);
      expect((results[0] as PromiseFulfilledResult<RunRecord>).value.object).toEqual({ i: 0, text: 'back\\u0000slash \ud83d\ude00' });
      expect(statements).toBeLessThanOrEqual(8);
      expect((await counted.lookup(all[9]!.runId))?.version).toBe(1);
    });

    it('a move whose answer was lost after it committed is applied once: the retry misses and reports a Conflict', async () => {
      const { db } = ctx();
      const [r] = await runs(1);
      const flaky = createRecordStore(losingFirstAnswer(db));
      const err = await rejection(flaky.move(r!, { status: 'b' }, statusEvent));
      expect(err).toBeInstanceOf(Conflict);
      expect((err as Conflict).details).toMatchObject({ expectedVersion: 1, currentVersion: 2 });
      const hist = await db.db.select().from(workflowHistory).where(eq(workflowHistory.runId, r!.runId)).orderBy(asc(workflowHistory.id));
      expect(hist.map((h) => [h.version, h.status])).toEqual([[1, 'a'], [2, 'b']]);
      expect((await outboxOf(db, r!.runId)).filter((e) => e.type === 'workflow.run.status_changed').map((e) => e.subject)).toEqual([`workflow.run.status_changed.${r!.workflow}.b`]);
    });

    it('of 10 concurrent moves of one run at one version exactly one wins', async () => {
      const { store } = ctx();
      const [r] = await runs(1);
      const results = await Promise.allSettled([...Array(10).keys()].map((i) => store.move(r!, { status: `s${i}` }, statusEvent)));
      const won = results.filter((x) => x.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const x of results) if (x.status === 'rejected') expect(x.reason).toBeInstanceOf(Conflict);
      expect((await store.lookup(r!.runId))?.version).toBe(2);
    });

    it('refuses a run-state move outside the table and changes nothing', async () => {
      const { store } = ctx();
      const [r] = await runs(1);
      const done = await store.move(r!, { status: 'z', runState: 'completed' }, statusEvent);
      expect(done.runState).toBe('completed');
      const refused = await rejection(store.move(done, { runState: 'paused' }, statusEvent));
      expect(refused).toBeInstanceOf(Conflict);
      expect((refused as Conflict).details).toMatchObject({ from: 'completed', to: 'paused' });
      expect((await store.lookup(r!.runId))?.version).toBe(2);
    });

    it('arms a timeout at the new status and cancels the old one in the same statement; sets fields to null when asked', async () => {
      const { store, db } = ctx();
      const [r] = await runs(1);
      const expiresAt = new Date(Date.now() + 60_000);
      const armed = await store.move(r!, { status: 'waiting', reason: 'why' }, statusEvent, { cancel: false, armAt: expiresAt });
      const pending = () => db.db.select().from(workflowTimeouts).where(and(eq(workflowTimeouts.runId, r!.runId), isNull(workflowTimeouts.cancelledAt), isNull(workflowTimeouts.completedAt)));
      expect((await pending()).map((t) => [t.status, t.expiresAt.getTime()])).toEqual([['waiting', expiresAt.getTime()]]);
      const next = await store.move(armed, { status: 'next', reason: null, object: null }, statusEvent, { cancel: true });
      expect(next).toMatchObject({ status: 'next', reason: null, object: null, version: 3 });
      expect(await pending()).toEqual([]);
    });
  });
}
