/**
 * What the record store adds to the engine's port (workflow-store-port-contract.ts covers that on every adapter), on
 * PostgreSQL and PGlite: the rows themselves (history objects, outbox order), data deletion's history, definitions,
 * and the one-statement writes (workflow-store-move-contract.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/kernel/outbox.ts';
import { Conflict, NotFound } from '../../src/kernel/errors.ts';
import type { RunRecord } from '../../src/modules/workflow/model/run.ts';
import { createRecordStore, type RecordStore } from '../../src/modules/workflow/store/index.ts';
import { rejection } from '../helpers/async.ts';
import { uniqueName } from '../helpers/env.ts';
import { outboxOf, outboxOfRuns, type WorkflowStoreFixture } from './workflow-store-helpers.ts';
import { workflowMoveContract } from './workflow-store-move-contract.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';

const none = (): OutboxEvent[] => [];
const noTimeouts = { cancel: false };

/** Registers the record-store contract for one adapter. */
export function workflowStoreContract(name: string, factory: () => Promise<WorkflowStoreFixture>): void {
  describe(`workflow store contract: ${name}`, () => {
    let fx: WorkflowStoreFixture;
    let store: RecordStore;
    beforeAll(async () => {
      fx = await factory();
      await fx.db.migrate(ALL_MODULE_MIGRATIONS);
      store = createRecordStore(fx.db);
    });
    afterAll(async () => {
      await fx?.cleanup();
    });

    const wf = () => uniqueName('wf');
    const create = (workflow = wf(), foreignId = 'f-1', object: unknown = { step: 0 }) => store.createRun({ workflow, foreignId, status: 'created', runState: 'running', object }, none);

    it('refuses a second active run (paused counts) and allows one once the first is cancelled or completed; a refused run writes nothing', async () => {
      const workflow = wf();
      const first = await create(workflow);
      const err = await rejection(create(workflow, 'f-1', { other: true }));
      expect((err as Conflict).details.activeRunId).toBe(first.runId);
      expect((await store.list({ workflow })).runs.map((r) => r.runId)).toEqual([first.runId]);
      expect((await outboxOf(fx.db, first.runId)).map((e) => e.type)).toEqual(['workflow.run.created']);
      // Other foreign ids and other workflows are independent.
      await create(workflow, 'f-2');
      await create(wf(), 'f-1');
      const paused = await store.move(first, { runState: 'paused', reason: 'operator' }, none, noTimeouts);
      expect(((await rejection(create(workflow))) as Conflict).details.activeRunId).toBe(first.runId);
      await store.move(paused, { runState: 'cancelled', reason: 'operator' }, none, noTimeouts);
      const second = await create(workflow);
      await store.move(second, { status: 'done', runState: 'completed' }, none, noTimeouts);
      const third = await create(workflow);
      expect(new Set([first.runId, second.runId, third.runId]).size).toBe(3);
    });

    it('appends one history row per change, in order, with the object only where it changed', async () => {
      const run = await create();
      let cur = await store.move(run, { status: 'a', object: { step: 1 } }, none, noTimeouts);
      cur = await store.move(cur, { status: 'b', statusDescription: 'via b' }, none, noTimeouts);
      cur = await store.move(cur, { runState: 'paused', reason: 'too many errors' }, none, noTimeouts);
      const history = await store.history(run.runId);
      expect(history.map((h) => [h.version, h.status, h.runState, h.object, h.reason, h.statusDescription])).toEqual([
        [1, 'created', 'running', { step: 0 }, null, null],
        [2, 'a', 'running', { step: 1 }, null, null],
        [3, 'b', 'running', null, null, 'via b'],
        [4, 'b', 'paused', null, 'too many errors', 'via b'],
      ]);
      expect(history.map((h) => h.id)).toEqual([...history.map((h) => h.id)].sort((x, y) => x - y));
      expect(await store.history('no-such-run')).toEqual([]);
    });

    it('writes the outbox events of a write in the given order, correlated with the run unless an event says otherwise', async () => {
      const run = await create();
      const after = await store.move(run, { status: 'paid' }, (r: RunRecord) => [
        { type: 'workflow.run.status_changed', data: { runId: r.runId, status: r.status, version: r.version } },
        { type: 'workflow.run.note', data: { n: 1 } },
        { type: 'workflow.run.note', data: { n: 2 }, correlationId: 'elsewhere', id: uniqueName('ev') },
      ], noTimeouts);
      const rows = await outboxOf(fx.db, run.runId);
      expect(rows.map((e) => [e.type, e.data])).toEqual([
        ['workflow.run.created', { runId: run.runId, workflow: run.workflow, foreignId: run.foreignId, status: 'created', runState: 'running', version: 1 }],
        ['workflow.run.status_changed', { runId: run.runId, status: 'paid', version: after.version }],
        ['workflow.run.note', { n: 1 }],
      ]);
      expect(rows.map((e) => e.id)).toEqual([...rows.map((e) => e.id)].sort((x, y) => x - y));
    });

    it('orders outbox rows by id in the order of sequential writes', async () => {
      const workflow = wf();
      const runs: RunRecord[] = [];
      for (let i = 0; i < 5; i++) runs.push(await create(workflow, `f-${i}`));
      for (const r of runs) await store.move(r, { status: 'next' }, () => [{ type: 'workflow.run.status_changed', data: { runId: r.runId } }], noTimeouts);
      const rows = await outboxOfRuns(fx.db, runs.map((r) => r.runId));
      expect(rows.map((e) => [e.type, e.correlationId])).toEqual([...runs.map((r) => ['workflow.run.created', r.runId]), ...runs.map((r) => ['workflow.run.status_changed', r.runId])]);
    });

    it('deleteData scrubs the object of a finished run, sets dataDeleted and keeps the history rows without their objects', async () => {
      const run = await create();
      const paid = await store.move(run, { status: 'paid', object: { card: '4111' } }, none, noTimeouts);
      const active = await rejection(store.deleteData(run.runId, { scrubbed: true }, none));
      expect(active).toBeInstanceOf(Conflict);
      expect((active as Conflict).details).toMatchObject({ from: 'running' });
      const done = await store.move(paid, { runState: 'completed', status: 'done' }, none, noTimeouts);
      const deleted = await store.deleteData(run.runId, { scrubbed: true }, (r) => [{ type: 'workflow.run.status_changed', data: { runState: r.runState } }]);
      expect(deleted).toMatchObject({ runState: 'dataDeleted', object: { scrubbed: true }, status: 'done', version: done.version + 1 });
      expect(await store.lookup(run.runId)).toEqual(deleted);
      const history = await store.history(run.runId);
      expect(history.map((h) => [h.status, h.runState])).toEqual([
        ['created', 'running'],
        ['paid', 'running'],
        ['done', 'completed'],
        ['done', 'dataDeleted'],
      ]);
      expect(history.map((h) => h.object)).toEqual([null, null, null, { scrubbed: true }]);
      expect(JSON.stringify(history)).not.toContain('4111');
      expect((await outboxOf(fx.db, run.runId)).at(-1)?.data).toEqual({ runState: 'dataDeleted' });
      expect(await rejection(store.deleteData('no-such-run', {}, none))).toBeInstanceOf(NotFound);
      // A cancelled run's data may be deleted too; deleting again keeps it deleted.
      const other = await create();
      await store.move(other, { runState: 'cancelled' }, none, noTimeouts);
      expect((await store.deleteData(other.runId, null, none)).object).toBeNull();
      expect((await store.deleteData(other.runId, { again: 1 }, none)).runState).toBe('dataDeleted');
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

    workflowMoveContract(() => ({ store, db: fx.db }));
  });
}
