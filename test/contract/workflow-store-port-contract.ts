/** The contract of the engine's WorkflowStorePort: the SQL adapter (PostgreSQL, PGlite) and the memory adapter pass it unchanged. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conflict, Invalid, NotFound } from '../../src/kernel/errors.ts';
import { RunStatusChanged } from '../../src/modules/workflow/model/events.ts';
import type { RunRecord } from '../../src/modules/workflow/model/run.ts';
import type { OutboxEvent } from '../../src/kernel/outbox.ts';
import { TriggerKeyTaken, type WorkflowStorePort } from '../../src/modules/workflow/store/index.ts';
import { rejection } from '../helpers/async.ts';
import { uniqueName } from '../helpers/env.ts';

/** One adapter under test: the port, a reader of the events it wrote for a run (in order), and its teardown. */
export interface StorePortFixture {
  store: WorkflowStorePort;
  events(runId: string): Promise<{ type: string; data: unknown }[]>;
  cleanup(): Promise<void>;
}

const OBJECT = { order: 'o-1', lines: [{ sku: 'ä-1', qty: 2 }], note: "it's \"quoted\"", total: 12.5, nested: { empty: [], none: null } };
const changed = (r: RunRecord): OutboxEvent[] => [RunStatusChanged.outbox({ runId: r.runId, workflow: r.workflow, foreignId: r.foreignId, status: r.status, runState: r.runState, version: r.version, previousStatus: null })];
const none = (): OutboxEvent[] => [];
const HOUR = 3_600_000;

/** Registers the port contract for one adapter. */
export function workflowStorePortContract(name: string, factory: () => Promise<StorePortFixture>): void {
  describe(`workflow store port contract: ${name}`, () => {
    let fx: StorePortFixture;
    let s: WorkflowStorePort;
    beforeAll(async () => {
      fx = await factory();
      s = fx.store;
    });
    afterAll(async () => {
      await fx?.cleanup();
    });
    const wf = () => uniqueName('wf');
    const start = (workflow = wf(), foreignId = 'f-1', armAt?: Date) => s.createRun({ workflow, foreignId, status: 'created', object: OBJECT, runState: 'running' }, changed, armAt);

    it('creates a run at version 1 with a created event then the caller’s events, found by lookup and latest', async () => {
      const run = await start();
      expect(run).toMatchObject({ foreignId: 'f-1', status: 'created', runState: 'running', version: 1, object: OBJECT });
      expect(run.createdAt).toBeInstanceOf(Date);
      expect(await s.lookup(run.runId)).toEqual(run);
      expect(await s.latest(run.workflow, 'f-1')).toEqual(run);
      expect(await s.lookup('no-such-run')).toBeUndefined();
      expect(await s.latest(run.workflow, 'f-2')).toBeUndefined();
      const events = await fx.events(run.runId);
      expect(events.map((e) => e.type)).toEqual(['workflow.run.created', 'workflow.run.status_changed']);
      expect(events[1]!.data).toMatchObject({ runId: run.runId, version: 1, status: 'created' });
      expect((await s.history(run.runId)).map((h) => [h.status, h.runState, h.version])).toEqual([['created', 'running', 1]]);
    });

    it('refuses a second active run for the foreign id (Conflict naming it) and stores nothing for it', async () => {
      const first = await start();
      const err = await rejection(start(first.workflow, 'f-1'));
      expect(err).toBeInstanceOf(Conflict);
      expect((err as Conflict).details).toMatchObject({ activeRunId: first.runId });
      expect((await s.history(first.runId)).map((h) => h.version)).toEqual([1]);
      const done = await s.move(first, { status: 'done', runState: 'completed' }, none, { cancel: false });
      const second = await start(first.workflow, 'f-1');
      expect(second.runId).not.toBe(first.runId);
      expect((await s.latest(first.workflow, 'f-1'))?.runId).toBe(second.runId);
      expect((await s.lookup(first.runId))?.version).toBe(done.version);
    });

    it('moves by compare-and-set: version + 1, history and events of the run as written; a stale version is a Conflict, an unknown run NotFound', async () => {
      const run = await start();
      const seen: RunRecord[] = [];
      const after = await s.move(run, { status: 'paid', object: { paid: true }, statusDescription: 'card' }, (a) => (seen.push(a), changed(a)), { cancel: false });
      expect(after).toMatchObject({ runId: run.runId, status: 'paid', version: 2, object: { paid: true }, statusDescription: 'card', runState: 'running' });
      expect(seen[0]).toMatchObject({ status: 'paid', version: 2 });
      expect(await s.lookup(run.runId)).toEqual(after);
      expect(await rejection(s.move(run, { status: 'other' }, none, { cancel: false }))).toBeInstanceOf(Conflict);
      expect(await rejection(s.move({ ...run, runId: 'no-such-run' }, { status: 'x' }, none, { cancel: false }))).toBeInstanceOf(NotFound);
      const kept = await s.move(after, { status: 'shipped' }, none, { cancel: false });
      expect(kept.object).toEqual({ paid: true });
      expect((await s.history(run.runId)).map((h) => [h.status, h.version])).toEqual([['created', 1], ['paid', 2], ['shipped', 3]]);
      expect((await fx.events(run.runId)).map((e) => (e.data as { version: number }).version)).toEqual([1, 1, 2]);
    });

    it('refuses a run-state move the state table forbids, leaving the run as it was', async () => {
      const run = await start();
      const done = await s.move(run, { status: 'done', runState: 'completed' }, none, { cancel: false });
      expect(await rejection(s.move(done, { runState: 'running' }, none, { cancel: false }))).toBeInstanceOf(Conflict);
      expect(await s.lookup(run.runId)).toEqual(done);
    });

    it('refuses values PostgreSQL cannot store (NUL, unpaired surrogate, nesting past 64 levels) as Invalid naming the field, and writes nothing', async () => {
      let deep: unknown = 'leaf';
      for (let i = 0; i < 70; i++) deep = { d: deep };
      const workflow = wf();
      const nul = await rejection(Promise.resolve().then(() => s.createRun({ workflow, foreignId: 'f-1', status: 'created', object: { note: 'a\u0000b' }, runState: 'running' }, none)));
      expect((nul as Invalid).issues.map((i) => i.path)).toEqual(['object.note']);
      const badId = await rejection(Promise.resolve().then(() => s.createRun({ workflow, foreignId: 'f-\ud800', status: 'created', runState: 'running' }, none)));
      expect((badId as Invalid).issues.map((i) => i.path)).toEqual(['foreignId']);
      expect(await s.latest(workflow, 'f-1')).toBeUndefined();
      const run = await start(workflow, 'f-2');
      const tooDeep = await rejection(Promise.resolve().then(() => s.move(run, { object: deep }, none, { cancel: false })));
      expect(tooDeep).toBeInstanceOf(Invalid);
      expect((tooDeep as Invalid).message).toContain('nested deeper than 64 levels');
      const badReason = await rejection(Promise.resolve().then(() => s.move(run, { runState: 'paused', reason: 'x\u0000' }, none, { cancel: false })));
      expect((badReason as Invalid).issues.map((i) => i.path)).toEqual(['reason']);
      expect(await s.lookup(run.runId)).toEqual(run);
      expect((await s.history(run.runId)).map((h) => h.version)).toEqual([1]);
    });

    it('keeps what it stored apart from the caller’s objects', async () => {
      const object = { n: 1, list: [1] };
      const run = await s.createRun({ workflow: wf(), foreignId: 'f', status: 'a', object, runState: 'running' }, none);
      object.list.push(2);
      (run.object as { n: number }).n = 99;
      expect((await s.lookup(run.runId))?.object).toEqual({ n: 1, list: [1] });
    });

    it('arms timeouts (at start and by a move), lists the expired ones earliest first, cancels them with the plan, completes each once', async () => {
      const t0 = Date.now() + 10 * HOUR;
      const a = await start(wf(), 'f', new Date(t0 + 2_000));
      const b = await start(wf(), 'f', new Date(t0 + 1_000));
      const c = await start(wf(), 'f');
      await s.move(c, { status: 'waiting' }, none, { cancel: false, armAt: new Date(t0 + 3_000) });
      const mine = <T extends { runId: string }>(rows: T[]) => rows.filter((r) => [a.runId, b.runId, c.runId].includes(r.runId));
      expect(mine(await s.expiredTimeouts(new Date(t0), 1000))).toEqual([]);
      const due = mine(await s.expiredTimeouts(new Date(t0 + 3_000), 1000));
      expect(due.map((t) => t.runId)).toEqual([b.runId, a.runId, c.runId]);
      expect(due[2]).toMatchObject({ status: 'waiting', workflow: c.workflow });
      expect(due[0]!.expiresAt.getTime()).toBe(t0 + 1_000);
      await s.completeTimeout(due[0]!.id);
      await s.completeTimeout(due[0]!.id);
      // Leaving the status cancels its timeout in the same write.
      await s.move((await s.lookup(a.runId))!, { status: 'next' }, none, { cancel: true });
      expect(mine(await s.expiredTimeouts(new Date(t0 + HOUR), 1000)).map((t) => t.runId)).toEqual([c.runId]);
    });

    it('tells when the earliest pending timeout is due, for the poller to sleep until then', async () => {
      // Far in the past, so no other test's timeout in this store is earlier.
      const t0 = Date.UTC(1990, 0, 1);
      const a = await start(wf(), 'f', new Date(t0 + 1_000));
      const b = await start(wf(), 'f', new Date(t0 + 2_000));
      expect(await s.nextTimeoutAt()).toEqual(new Date(t0 + 1_000));
      const first = (await s.expiredTimeouts(new Date(t0 + 1_000), 1000)).find((t) => t.runId === a.runId)!;
      await s.completeTimeout(first.id);
      expect(await s.nextTimeoutAt()).toEqual(new Date(t0 + 2_000));
      await s.move(b, { status: 'next' }, none, { cancel: true });
      expect((await s.nextTimeoutAt())?.getTime() ?? Infinity).toBeGreaterThan(t0 + 2_000);
    });

    it('finds running runs at a status for the sweep, oldest first, up to the limit', async () => {
      const workflow = wf();
      const r1 = await start(workflow, 'a');
      const r2 = await start(workflow, 'b');
      const r3 = await start(workflow, 'c');
      await s.move(r3, { runState: 'paused', reason: 'by hand' }, none, { cancel: false });
      await start(wf(), 'a');
      expect((await s.runsAt(workflow, 'created', 10)).map((r) => r.runId)).toEqual([r1.runId, r2.runId]);
      expect(await s.runsAt(workflow, 'created', 1)).toHaveLength(1);
      expect(await s.runsAt(workflow, 'elsewhere', 10)).toEqual([]);
    });

    it('finds runs paused by errors (not by hand) last changed before a time', async () => {
      const workflow = wf();
      const byErrors = await s.move(await start(workflow, 'e'), { runState: 'paused', reason: 'errors: 5 failed attempts' }, none, { cancel: false });
      await s.move(await start(workflow, 'h'), { runState: 'paused', reason: 'paused through the API' }, none, { cancel: false });
      const found = (await s.pausedByErrorsBefore(new Date(Date.now() + HOUR), 1000)).filter((r) => r.workflow === workflow);
      expect(found.map((r) => r.runId)).toEqual([byErrors.runId]);
      expect((await s.pausedByErrorsBefore(new Date(byErrors.updatedAt.getTime() - HOUR), 1000)).filter((r) => r.workflow === workflow)).toEqual([]);
    });

    it('deletes the data of a finished run (dataDeleted, scrubbed object, events), refuses an active run and an unknown one', async () => {
      const run = await start();
      expect(await rejection(s.deleteData(run.runId, { deleted: true }, none))).toBeInstanceOf(Conflict);
      expect(await rejection(s.deleteData('no-such-run', { deleted: true }, none))).toBeInstanceOf(NotFound);
      const done = await s.move(run, { status: 'done', runState: 'completed' }, none, { cancel: false });
      const deleted = await s.deleteData(run.runId, { deleted: true }, changed);
      expect(deleted).toMatchObject({ runState: 'dataDeleted', object: { deleted: true }, version: done.version + 1, status: 'done' });
      expect(await s.lookup(run.runId)).toEqual(deleted);
      expect((await fx.events(run.runId)).at(-1)).toMatchObject({ type: 'workflow.run.status_changed', data: { runState: 'dataDeleted' } });
      expect((await s.history(run.runId)).at(-1)).toMatchObject({ runState: 'dataDeleted', version: deleted.version });
    });

    it('stores an Idempotency-Key with the run it starts; a second start with the key creates nothing, even once the run finished', async () => {
      const workflow = wf();
      const at = new Date('2026-03-01T00:00:00Z');
      const key = { key: 'k-1', requestHash: 'h-1', expiresAt: new Date(at.getTime() + 24 * HOUR) };
      const run = await s.createRun({ workflow, foreignId: 'f-1', status: 'created', object: OBJECT, runState: 'running', triggerKey: key }, changed);
      expect(await s.findTriggerKey(workflow, 'k-1', at)).toEqual({ requestHash: 'h-1', runId: run.runId, status: 'created', runState: 'running' });
      expect(await s.findTriggerKey(workflow, 'k-2', at)).toBeUndefined();
      expect(await s.findTriggerKey(wf(), 'k-1', at)).toBeUndefined();
      // Finished: the foreign id is free again, but the key is not.
      await s.move(run, { status: 'done', runState: 'completed' }, none, { cancel: true });
      const again = await rejection(s.createRun({ workflow, foreignId: 'f-1', status: 'created', runState: 'running', triggerKey: { ...key, requestHash: 'h-2' } }, changed));
      expect(again).toBeInstanceOf(TriggerKeyTaken);
      expect(await s.latest(workflow, 'f-1')).toMatchObject({ runId: run.runId, runState: 'completed' });
      expect((await fx.events(run.runId)).length).toBeGreaterThan(0);
    });

    it('forgets an expired key on lookup, and the sweep removes expired keys only, oldest first, up to its limit', async () => {
      const workflow = wf();
      const t0 = new Date('2026-03-01T00:00:00Z');
      const keyed = (k: string, ttlHours: number, foreignId: string) =>
        s.createRun({ workflow, foreignId, status: 'created', runState: 'running', triggerKey: { key: k, requestHash: 'h', expiresAt: new Date(t0.getTime() + ttlHours * HOUR) } }, none);
      await keyed('a', 1, 'f-a');
      await keyed('b', 2, 'f-b');
      await keyed('d', 1.5, 'f-d');
      await keyed('c', 48, 'f-c');
      const later = new Date(t0.getTime() + 3 * HOUR);
      expect(await s.findTriggerKey(workflow, 'a', later)).toBeUndefined();
      // 'a' went with that lookup; the key can start a run again.
      await keyed('a', 30, 'f-a2');
      expect(await s.findTriggerKey(workflow, 'a', later)).toMatchObject({ requestHash: 'h' });
      // Other tests' keys share the table (SQL adapters): sweep far in the past first, then only this test's.
      expect(await s.deleteExpiredTriggerKeys(new Date(0), 10)).toBe(0);
      expect(await s.deleteExpiredTriggerKeys(later, 1)).toBe(1);
      expect(await s.findTriggerKey(workflow, 'd', t0)).toBeUndefined();
      expect(await s.findTriggerKey(workflow, 'b', t0)).toBeDefined();
      expect(await s.deleteExpiredTriggerKeys(later, 1000)).toBe(1);
      expect(await s.findTriggerKey(workflow, 'b', t0)).toBeUndefined();
      expect(await s.findTriggerKey(workflow, 'c', later)).toBeDefined();
      expect(await s.findTriggerKey(workflow, 'a', later)).toBeDefined();
    });
  });
}
