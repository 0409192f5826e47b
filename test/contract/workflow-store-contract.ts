/** The workflow record store contract (luno adapter-test style): PostgreSQL and PGlite must pass it unchanged. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/kernel/db/port.ts';
import { Conflict, NotFound } from '../../src/kernel/errors.ts';
import { createRecordStore, type RecordStore, type StoredRun } from '../../src/modules/workflow/store.ts';
import { rejection } from '../helpers/async.ts';
import { uniqueName } from '../helpers/env.ts';
import { historyCount, outboxOf, outboxOfRuns, type WorkflowStoreFixture } from './workflow-store-helpers.ts';
import { workflowMoveContract } from './workflow-store-move-contract.ts';
import { workflowTimeoutsContract } from './workflow-store-timeouts-contract.ts';

const OBJECT = { order: 'o-1', lines: [{ sku: 'ä-1', qty: 2 }], note: "it's \"quoted\"", total: 12.5, paid: false, nested: { empty: [], none: null } };

/** Registers the record-store contract (runs, CAS, history, outbox, run states, data deletion, definitions, timeouts) for one adapter. */
export function workflowStoreContract(name: string, factory: () => Promise<WorkflowStoreFixture>): void {
  describe(`workflow store contract: ${name}`, () => {
    let fx: WorkflowStoreFixture;
    let store: RecordStore;
    beforeAll(async () => {
      fx = await factory();
      await fx.db.migrate();
      store = createRecordStore(fx.db);
    });
    afterAll(async () => {
      await fx?.cleanup();
    });

    const wf = () => uniqueName('wf');
    /** A run moved from initiated to running (version 2). */
    async function runningRun(workflow = wf(), foreignId = 'f-1'): Promise<StoredRun> {
      const run = await store.createRun({ workflow, foreignId, status: 'created', object: OBJECT });
      return store.transition(run.runId, run.version, { runState: 'running' });
    }

    it('creates a run at version 1 and finds it by lookup and latest', async () => {
      const workflow = wf();
      const run = await store.createRun({ workflow, foreignId: 'f-1', status: 'created', object: OBJECT, statusDescription: 'new' });
      expect(run).toMatchObject({ workflow, foreignId: 'f-1', status: 'created', runState: 'initiated', version: 1, object: OBJECT, statusDescription: 'new', reason: null });
      expect(run.createdAt).toBeInstanceOf(Date);
      expect(await store.lookup(run.runId)).toEqual(run);
      expect(await store.latest(workflow, 'f-1')).toEqual(run);
      expect(await store.lookup('no-such-run')).toBeUndefined();
      expect(await store.latest(workflow, 'f-2')).toBeUndefined();
      expect(await store.latest(wf(), 'f-1')).toBeUndefined();
      const started = await store.createRun({ workflow, foreignId: 'f-2', status: 'created', runState: 'running' });
      expect(started).toMatchObject({ runState: 'running', object: null });
    });

    it('latest returns the newest run of the foreign id once the earlier one is finished', async () => {
      const first = await runningRun();
      await store.transition(first.runId, first.version, { runState: 'completed', status: 'done' });
      const second = await store.createRun({ workflow: first.workflow, foreignId: first.foreignId, status: 'created' });
      expect((await store.latest(first.workflow, first.foreignId))?.runId).toBe(second.runId);
      expect((await store.lookup(first.runId))?.runState).toBe('completed');
    });

    it('refuses a second active run with a Conflict naming the active run, and allows it once that run completes or is cancelled', async () => {
      const workflow = wf();
      const first = await store.createRun({ workflow, foreignId: 'f-1', status: 'created' });
      const err = await rejection(store.createRun({ workflow, foreignId: 'f-1', status: 'created', object: { other: true } }));
      expect(err).toBeInstanceOf(Conflict);
      expect((err as Conflict).details.activeRunId).toBe(first.runId);
      // Nothing of the refused run was written: one run, one created event.
      expect((await store.list({ workflow })).runs.map((r) => r.runId)).toEqual([first.runId]);
      expect((await outboxOf(fx.db, first.runId)).map((e) => e.type)).toEqual(['workflow.run.created']);
      // Other foreign ids and other workflows are independent.
      await store.createRun({ workflow, foreignId: 'f-2', status: 'created' });
      await store.createRun({ workflow: wf(), foreignId: 'f-1', status: 'created' });

      // Paused still counts as active.
      const running = await store.transition(first.runId, 1, { runState: 'running' });
      const paused = await store.transition(first.runId, running.version, { runState: 'paused', reason: 'operator' });
      expect(((await rejection(store.createRun({ workflow, foreignId: 'f-1', status: 'created' }))) as Conflict).details.activeRunId).toBe(first.runId);
      await store.transition(first.runId, paused.version, { runState: 'cancelled', reason: 'operator' });
      const second = await store.createRun({ workflow, foreignId: 'f-1', status: 'created' });
      const secondRunning = await store.transition(second.runId, 1, { runState: 'running' });
      await store.transition(second.runId, secondRunning.version, { runState: 'completed', status: 'done' });
      const third = await store.createRun({ workflow, foreignId: 'f-1', status: 'created' });
      expect(new Set([first.runId, second.runId, third.runId]).size).toBe(3);
    });

    it('lets exactly one of 10 concurrent creates for the same foreign id win; the others name the winner', async () => {
      const workflow = wf();
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.createRun({ workflow, foreignId: 'same', status: 'created', object: { i } })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      const winner = (won[0] as PromiseFulfilledResult<StoredRun>).value;
      for (const r of results.filter((x) => x.status === 'rejected')) {
        expect(r.reason).toBeInstanceOf(Conflict);
        expect(r.reason.details.activeRunId).toBe(winner.runId);
      }
      expect((await store.list({ workflow })).runs).toHaveLength(1);
    });

    it("a Conflict inside the caller's transaction leaves that transaction usable; a caller's rollback writes nothing", async () => {
      const workflow = wf();
      const first = await store.createRun({ workflow, foreignId: 'f-1', status: 'created' });
      const [conflict, other] = await fx.db.transaction(async (tx: Db) => {
        const c = await rejection(store.createRun({ workflow, foreignId: 'f-1', status: 'created' }, tx));
        return [c, await store.createRun({ workflow, foreignId: 'f-2', status: 'created' }, tx)] as const;
      });
      expect((conflict as Conflict).details.activeRunId).toBe(first.runId);
      expect(await store.lookup(other.runId)).toEqual(other);

      let rolledBack: StoredRun | undefined;
      await rejection(
        fx.db.transaction(async (tx) => {
          rolledBack = await store.createRun({ workflow, foreignId: 'f-3', status: 'created' }, tx);
          throw new Error('caller fails after creating');
        }),
      );
      expect(rolledBack).toBeDefined();
      expect(await store.lookup(rolledBack!.runId)).toBeUndefined();
      expect(await store.latest(workflow, 'f-3')).toBeUndefined();
      expect(await outboxOf(fx.db, rolledBack!.runId)).toEqual([]);
      expect(await historyCount(fx.db, rolledBack!.runId)).toBe(0);
    });

    it('transitions with a version compare-and-set: right version moves, stale version is a Conflict, unknown run is NotFound', async () => {
      const run = await runningRun();
      const next = await store.transition(run.runId, run.version, { status: 'paid', object: { paid: true }, statusDescription: 'card' });
      expect(next).toMatchObject({ runId: run.runId, status: 'paid', runState: 'running', version: run.version + 1, object: { paid: true }, statusDescription: 'card', createdAt: run.createdAt });
      expect(next.updatedAt.getTime()).toBeGreaterThanOrEqual(run.updatedAt.getTime());
      expect(await store.lookup(run.runId)).toEqual(next);

      const stale = await rejection(store.transition(run.runId, run.version, { status: 'shipped' }));
      expect(stale).toBeInstanceOf(Conflict);
      expect((stale as Conflict).details).toMatchObject({ expectedVersion: run.version, currentVersion: next.version });
      expect(await rejection(store.transition('no-such-run', 1, { status: 'x' }))).toBeInstanceOf(NotFound);
      expect(await store.lookup(run.runId)).toEqual(next);

      // Absent fields are kept; null clears a description.
      const kept = await store.transition(run.runId, next.version, { statusDescription: null });
      expect(kept).toMatchObject({ status: 'paid', object: { paid: true }, statusDescription: null, version: next.version + 1 });
    });

    it('of 10 concurrent transitions at the same version exactly one wins; the rest get Conflict and write nothing', async () => {
      const run = await runningRun();
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.transition(run.runId, run.version, { status: `s${i}` }, (r) => [{ type: 'workflow.run.status_changed', data: { runId: r.runId, status: r.status, version: r.version } }]),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results.filter((x) => x.status === 'rejected')) expect(r.reason).toBeInstanceOf(Conflict);
      const winner = (won[0] as PromiseFulfilledResult<StoredRun>).value;
      expect(await store.lookup(run.runId)).toEqual(winner);
      expect(winner.version).toBe(run.version + 1);
      expect((await store.history(run.runId)).map((h) => h.version)).toEqual([1, 2, 3]);
      const changed = (await outboxOf(fx.db, run.runId)).filter((e) => e.type === 'workflow.run.status_changed');
      expect(changed.map((e) => e.data)).toEqual([{ runId: run.runId, status: winner.status, version: winner.version }]);
    });

    it('appends one history row per change, in order, with the object only where it changed', async () => {
      const run = await store.createRun({ workflow: wf(), foreignId: 'f-1', status: 'created', object: { step: 0 } });
      let cur = await store.transition(run.runId, 1, { runState: 'running' });
      cur = await store.transition(run.runId, cur.version, { status: 'a', object: { step: 1 } });
      cur = await store.transition(run.runId, cur.version, { status: 'b', statusDescription: 'via b' });
      cur = await store.transition(run.runId, cur.version, { runState: 'paused', reason: 'too many errors' });
      const history = await store.history(run.runId);
      expect(history.map((h) => [h.version, h.status, h.runState, h.object, h.reason, h.statusDescription])).toEqual([
        [1, 'created', 'initiated', { step: 0 }, null, null],
        [2, 'created', 'running', null, null, null],
        [3, 'a', 'running', { step: 1 }, null, null],
        [4, 'b', 'running', null, null, 'via b'],
        [5, 'b', 'paused', null, 'too many errors', 'via b'],
      ]);
      expect(history.map((h) => h.id)).toEqual([...history.map((h) => h.id)].sort((x, y) => x - y));
      expect(await store.history('no-such-run')).toEqual([]);
    });

    it('writes outbox events in the same transaction, in the given order, correlated with the run', async () => {
      const run = await runningRun();
      const after = await store.transition(run.runId, run.version, { status: 'paid' }, (r) => [
        { type: 'workflow.run.status_changed', data: { runId: r.runId, workflow: r.workflow, foreignId: r.foreignId, status: r.status, version: r.version } },
        { type: 'workflow.run.note', data: { n: 1 } },
        { type: 'workflow.run.note', data: { n: 2 }, correlationId: 'elsewhere', id: uniqueName('ev') },
      ]);
      const rows = await outboxOf(fx.db, run.runId);
      expect(rows.map((e) => [e.type, e.data])).toEqual([
        ['workflow.run.created', { runId: run.runId, workflow: run.workflow, foreignId: run.foreignId, status: 'created', runState: 'initiated', version: 1 }],
        ['workflow.run.status_changed', { runId: run.runId, workflow: run.workflow, foreignId: run.foreignId, status: 'paid', version: after.version }],
        ['workflow.run.note', { n: 1 }],
      ]);
      expect(rows.map((e) => e.id)).toEqual([...rows.map((e) => e.id)].sort((x, y) => x - y));
    });

    it('orders outbox rows by id across transactions in commit order of sequential writes', async () => {
      const workflow = wf();
      const runs: StoredRun[] = [];
      for (let i = 0; i < 5; i++) runs.push(await store.createRun({ workflow, foreignId: `f-${i}`, status: 'created' }));
      for (const r of runs) await store.transition(r.runId, 1, { runState: 'running' }, [{ type: 'workflow.run.status_changed', data: { runId: r.runId } }]);
      const rows = await outboxOfRuns(fx.db, runs.map((r) => r.runId));
      expect(rows.map((e) => [e.type, e.correlationId])).toEqual([
        ...runs.map((r) => ['workflow.run.created', r.runId]),
        ...runs.map((r) => ['workflow.run.status_changed', r.runId]),
      ]);
    });

    it('a transition that fails after its UPDATE writes nothing: not the record, not history, not the outbox', async () => {
      const run = await runningRun();
      const outboxBefore = await outboxOf(fx.db, run.runId);
      const historyBefore = await historyCount(fx.db, run.runId);
      const events = [{ type: 'workflow.run.status_changed', data: { runId: run.runId } }];
      // The caller's in-transaction work throws after the update, history and outbox rows.
      const err = await rejection(store.transition(run.runId, run.version, { status: 'paid', object: { x: 1 } }, events, { inTransaction: async () => { throw new Error('arming the timeout failed'); } }));
      expect((err as Error).message).toBe('arming the timeout failed');
      // The outbox refuses a duplicate event id after the update succeeded.
      const dup = outboxBefore[0]!.eventId;
      await rejection(store.transition(run.runId, run.version, { status: 'paid' }, [{ type: 'workflow.run.status_changed', data: {}, id: dup }]));
      expect(await store.lookup(run.runId)).toEqual(run);
      expect(await historyCount(fx.db, run.runId)).toBe(historyBefore);
      expect(await outboxOf(fx.db, run.runId)).toEqual(outboxBefore);
      // The run is still at its version: the same transition now succeeds.
      expect((await store.transition(run.runId, run.version, { status: 'paid' }, events)).version).toBe(run.version + 1);
    });

    it('a create that fails inside its transaction leaves no run, history or event, and frees the foreign id', async () => {
      const workflow = wf();
      let created: StoredRun | undefined;
      await rejection(store.createRun({ workflow, foreignId: 'f-1', status: 'created' }, undefined, { inTransaction: async (_tx, r) => { created = r; throw new Error('boom'); } }));
      expect(created).toBeDefined();
      expect(await store.lookup(created!.runId)).toBeUndefined();
      expect(await outboxOf(fx.db, created!.runId)).toEqual([]);
      expect(await historyCount(fx.db, created!.runId)).toBe(0);
      expect((await store.createRun({ workflow, foreignId: 'f-1', status: 'created' })).version).toBe(1);
    });

    it('rejects run-state moves outside the table with a Conflict naming both states, and changes nothing', async () => {
      const initiated = await store.createRun({ workflow: wf(), foreignId: 'f-1', status: 'created' });
      const bad = await rejection(store.transition(initiated.runId, 1, { runState: 'completed' }));
      expect(bad).toBeInstanceOf(Conflict);
      expect((bad as Error).message).toMatch(/initiated.*completed/);
      expect((bad as Conflict).details).toMatchObject({ from: 'initiated', to: 'completed' });
      expect(await store.lookup(initiated.runId)).toEqual(initiated);

      const run = await runningRun();
      const done = await store.transition(run.runId, run.version, { runState: 'completed', status: 'done' });
      for (const to of ['running', 'paused', 'initiated', 'cancelled', 'dataDeleted'] as const) {
        const e = await rejection(store.transition(run.runId, done.version, { runState: to }));
        expect(e, to).toBeInstanceOf(Conflict);
        expect((e as Conflict).details).toMatchObject({ from: 'completed', to });
      }
      // Staying in the same state is not a move: a completed run may still record a description.
      expect((await store.transition(run.runId, done.version, { runState: 'completed', statusDescription: 'archived' })).version).toBe(done.version + 1);
      expect(await rejection(store.transition('no-such-run', 1, { runState: 'running' }))).toBeInstanceOf(NotFound);
    });

    it('deleteData scrubs the object of a finished run, sets dataDeleted and keeps the history rows without their objects', async () => {
      const run = await runningRun();
      const paid = await store.transition(run.runId, run.version, { status: 'paid', object: { card: '4111' } });
      const active = await rejection(store.deleteData(run.runId, { scrubbed: true }));
      expect(active).toBeInstanceOf(Conflict);
      expect((active as Conflict).details).toMatchObject({ from: 'running' });
      const done = await store.transition(run.runId, paid.version, { runState: 'completed', status: 'done' });
      const deleted = await store.deleteData(run.runId, { scrubbed: true });
      expect(deleted).toMatchObject({ runState: 'dataDeleted', object: { scrubbed: true }, status: 'done', version: done.version + 1 });
      expect(await store.lookup(run.runId)).toEqual(deleted);
      const history = await store.history(run.runId);
      expect(history.map((h) => [h.status, h.runState])).toEqual([
        ['created', 'initiated'],
        ['created', 'running'],
        ['paid', 'running'],
        ['done', 'completed'],
        ['done', 'dataDeleted'],
      ]);
      expect(history.map((h) => h.object)).toEqual([null, null, null, null, { scrubbed: true }]);
      expect(JSON.stringify(history)).not.toContain('4111');
      expect(await rejection(store.deleteData('no-such-run', {}))).toBeInstanceOf(NotFound);
      // A cancelled run's data may be deleted too; deleting again keeps it deleted.
      const other = await runningRun();
      await store.transition(other.runId, other.version, { runState: 'cancelled' });
      expect((await store.deleteData(other.runId, null)).object).toBeNull();
      expect((await store.deleteData(other.runId, { again: 1 })).runState).toBe('dataDeleted');
    });

    it('runsAt lists running runs at a status; pausedByErrorsBefore lists runs errors paused before a time, not others', async () => {
      const workflow = wf();
      const a = await runningRun(workflow, 'a');
      const b = await runningRun(workflow, 'b');
      const c = await runningRun(workflow, 'c');
      await store.transition(b.runId, b.version, { status: 'elsewhere' });
      const paused = await store.transition(c.runId, c.version, { runState: 'paused', reason: 'errors: 5 failed attempts' });
      const d = await runningRun(workflow, 'd');
      await store.transition(d.runId, d.version, { runState: 'paused', reason: 'paused through the API' });
      expect((await store.runsAt(workflow, 'created', 10)).map((r) => r.runId)).toEqual([a.runId]);
      const later = new Date(paused.updatedAt.getTime() + 1);
      const resumable = (await store.pausedByErrorsBefore(new Date(Date.now() + 60_000), 1_000)).map((r) => r.runId);
      expect(resumable).toContain(c.runId);
      expect(resumable).not.toContain(d.runId);
      expect((await store.pausedByErrorsBefore(later, 1_000)).map((r) => r.runId)).toContain(c.runId);
      expect((await store.pausedByErrorsBefore(paused.updatedAt, 1_000)).map((r) => r.runId)).not.toContain(c.runId);
    });

    it('saves definitions with a version that goes up on every save; get and list them', async () => {
      const name = wf();
      const v1 = await store.saveDefinition(name, 'state-machine', { start: 'created', states: { created: {} } });
      expect(v1).toMatchObject({ name, kind: 'state-machine', version: 1, spec: { start: 'created', states: { created: {} } } });
      const v2 = await store.saveDefinition(name, 'dag', { steps: [{ id: 'a' }] });
      expect(v2).toMatchObject({ name, kind: 'dag', version: 2, spec: { steps: [{ id: 'a' }] }, createdAt: v1.createdAt });
      expect(await store.getDefinition(name)).toEqual(v2);
      expect(await store.getDefinition(wf())).toBeUndefined();
      const other = `${name}-0`;
      await store.saveDefinition(other, 'state-machine', {});
      const names = (await store.listDefinitions()).map((d) => d.name).filter((n) => n.startsWith(name));
      expect(names).toEqual([name, other]);
    });

    workflowTimeoutsContract(() => ({ store, db: fx.db }));
    workflowMoveContract(() => ({ store, db: fx.db }));
  });
}
