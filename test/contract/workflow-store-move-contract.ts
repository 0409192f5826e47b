/** The record store's grouped one-statement transition (`move`): what many concurrent moves must leave behind. */
import { and, asc, eq, isNull } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/kernel/db/port.ts';
import { Conflict, NotFound } from '../../src/kernel/errors.ts';
import { workflowHistory, workflowTimeouts } from '../../src/modules/workflow/schema.ts';
import type { RecordStore, StoredRun } from '../../src/modules/workflow/store.ts';
import { rejection } from '../helpers/async.ts';
import { uniqueName } from '../helpers/env.ts';
import { outboxOf } from './workflow-store-helpers.ts';

const statusEvent = (after: StoredRun) => [{ type: 'workflow.run.status_changed', data: { runId: after.runId, status: after.status, version: after.version }, route: [after.workflow, after.status] }];

/** Registers the move tests; `ctx` gives the migrated store and its database. */
export function workflowMoveContract(ctx: () => { store: RecordStore; db: Database }): void {
  describe('move (one statement, grouped under load)', () => {
    async function runs(n: number): Promise<StoredRun[]> {
      const workflow = uniqueName('mv');
      const { store } = ctx();
      return Promise.all([...Array(n).keys()].map((i) => store.createRun({ workflow, foreignId: `f-${i}`, status: 'a', runState: 'running', object: { i } })));
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
      expect(await rejection(store.move(done, { runState: 'paused' }, statusEvent))).toBeInstanceOf(Conflict);
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
