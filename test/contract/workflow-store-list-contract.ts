/** The run list part of the workflow store contract: keyset paging over 1,000 runs and every filter, on an empty database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Invalid } from '../../src/kernel/errors.ts';
import { newId } from '../../src/kernel/ids.ts';
import { RUN_STATES, type RunState } from '../../src/modules/workflow/model/run-state.ts';
import { createRecordStore, type ListRunsQuery, type RecordStore } from '../../src/modules/workflow/store/index.ts';
import { rejection } from '../helpers/async.ts';
import { bulkInsertRuns, type BulkRun, type WorkflowStoreFixture } from './workflow-store-helpers.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';

const BASE = Date.parse('2001-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(BASE + seconds * 1_000);
const STATES: RunState[] = ['completed', 'cancelled', 'running', 'paused', 'initiated', 'completed', 'dataDeleted'];
const ACTIVE = new Set<RunState>(['initiated', 'running', 'paused']);

/** 1,000 runs: 50 creation instants shared by 20 runs each (ties broken by run id), ids shuffled against time. */
function makeRuns(): BulkRun[] {
  const ids = Array.from({ length: 1_000 }, () => newId()).sort(() => Math.random() - 0.5);
  return ids.map((runId, i) => {
    const runState = STATES[i % STATES.length]!;
    // Active runs need their own foreign id: the database allows one active run per (workflow, foreignId).
    return { runId, workflow: `w${i % 3}`, foreignId: ACTIVE.has(runState) ? `u-${i}` : `f${i % 4}`, status: `s${i % 5}`, runState, createdAt: at(Math.floor(i / 20)) };
  });
}

function sorted(runs: BulkRun[], order: 'asc' | 'desc'): string[] {
  const key = (r: BulkRun) => [r.createdAt.getTime(), r.runId] as const;
  const cmp = (a: BulkRun, b: BulkRun) => {
    const [ta, ia] = key(a);
    const [tb, ib] = key(b);
    return ta !== tb ? ta - tb : ia < ib ? -1 : ia > ib ? 1 : 0;
  };
  const asc = [...runs].sort(cmp).map((r) => r.runId);
  return order === 'asc' ? asc : asc.reverse();
}

function matches(r: BulkRun, q: ListRunsQuery): boolean {
  return (
    (q.workflow === undefined || r.workflow === q.workflow) &&
    (q.foreignId === undefined || r.foreignId === q.foreignId) &&
    (q.status === undefined || r.status === q.status) &&
    (q.runState === undefined || r.runState === q.runState) &&
    (q.createdAfter === undefined || r.createdAt >= q.createdAfter) &&
    (q.createdBefore === undefined || r.createdAt < q.createdBefore)
  );
}

/** Registers the list tests for one adapter; `factory` gives a fresh database used by this suite alone. */
export function workflowStoreListContract(name: string, factory: () => Promise<WorkflowStoreFixture>): void {
  describe(`workflow store list contract: ${name}`, () => {
    let fx: WorkflowStoreFixture;
    let store: RecordStore;
    const runs = makeRuns();
    beforeAll(async () => {
      fx = await factory();
      await fx.db.migrate(ALL_MODULE_MIGRATIONS);
      store = createRecordStore(fx.db);
      await bulkInsertRuns(fx.db, runs);
    });
    afterAll(async () => {
      await fx?.cleanup();
    });

    /** Follows nextCursor to the end; returns the ids in the order read and the number of pages. */
    async function readAll(query: ListRunsQuery): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ ...query, cursor });
        expect(page.runs.length).toBeLessThanOrEqual(query.limit ?? 100);
        ids.push(...page.runs.map((r) => r.runId));
        cursor = page.nextCursor ?? undefined;
        pages++;
        if (pages > 1_100) throw new Error('paging does not end');
      } while (cursor);
      return { ids, pages };
    }

    it('pages through 1,000 runs in both orders with no overlap and no gaps', async () => {
      for (const order of ['asc', 'desc'] as const) {
        const { ids, pages } = await readAll({ order, limit: 37 });
        expect(new Set(ids).size).toBe(1_000);
        expect(ids).toEqual(sorted(runs, order));
        expect(pages).toBe(Math.ceil(1_000 / 37));
      }
      // A page size that divides the total: the last full page already says there is no next one.
      const even = await readAll({ order: 'asc', limit: 100 });
      expect(even.pages).toBe(10);
      expect(even.ids).toEqual(sorted(runs, 'asc'));
      // Newest first by default; a page of the whole set at the maximum size.
      const all = await store.list({ limit: 1_000 });
      expect(all.runs.map((r) => r.runId)).toEqual(sorted(runs, 'desc'));
      expect(all.nextCursor).toBeNull();
      expect(all.runs[0]).toMatchObject({ version: 1, object: expect.any(Object) });
    });

    const single: [string, ListRunsQuery][] = [
      ['workflow', { workflow: 'w1' }],
      ['foreignId', { foreignId: 'f2' }],
      ['status', { status: 's3' }],
      ['runState', { runState: 'paused' }],
      ['createdAfter', { createdAfter: at(25) }],
      ['createdBefore', { createdBefore: at(25) }],
    ];
    const combined: [string, ListRunsQuery][] = [
      ['workflow + status', { workflow: 'w2', status: 's0' }],
      ['workflow + foreignId + runState', { workflow: 'w0', foreignId: 'f0', runState: 'completed' }],
      ['created window + status', { createdAfter: at(10), createdBefore: at(40), status: 's4' }],
      ['runState + created window', { runState: 'running', createdAfter: at(3), createdBefore: at(47) }],
      ['all six', { workflow: 'w1', foreignId: 'f1', status: 's1', runState: 'cancelled', createdAfter: at(5), createdBefore: at(45) }],
    ];
    for (const [label, filter] of [...single, ...combined]) {
      it(`filters by ${label}, paged in both orders`, async () => {
        const expected = runs.filter((r) => matches(r, filter));
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(runs.length);
        for (const order of ['asc', 'desc'] as const) {
          const { ids } = await readAll({ ...filter, order, limit: 17 });
          expect(ids).toEqual(sorted(expected, order));
        }
      });
    }

    it('counts runs by run state, of all workflows and of one, with zeros for absent states', async () => {
      const tally = (of: BulkRun[]) => Object.fromEntries(RUN_STATES.map((s) => [s, of.filter((r) => r.runState === s).length]));
      expect(await store.countByRunState()).toEqual(tally(runs));
      const w1 = await store.countByRunState('w1');
      expect(w1).toEqual(tally(runs.filter((r) => r.workflow === 'w1')));
      expect(w1.requestedDataDeleted).toBe(0);
      expect(Object.values(w1).reduce((a, b) => a + b, 0)).toBe(runs.filter((r) => r.workflow === 'w1').length);
      expect(await store.countByRunState('no-such-workflow')).toEqual(tally([]));
      // All workflows at once: the same counts as asking for each one.
      const all = await store.countByWorkflowAndRunState();
      const names = [...new Set(runs.map((r) => r.workflow))].sort();
      expect(Object.keys(all).sort()).toEqual(names);
      for (const w of names) expect(all[w]).toEqual(tally(runs.filter((r) => r.workflow === w)));
    });

    it('an empty match is one empty page', async () => {
      expect(await store.list({ workflow: 'w1', foreignId: 'no-such' })).toEqual({ runs: [], nextCursor: null });
      expect(await store.list({ createdAfter: at(60) })).toEqual({ runs: [], nextCursor: null });
    });

    it('rejects a bad limit, run state or cursor with Invalid naming the field', async () => {
      for (const limit of [0, 1_001, 1.5]) {
        const err = await rejection(store.list({ limit }));
        expect(err).toBeInstanceOf(Invalid);
        expect((err as Invalid).issues[0]?.path).toBe('limit');
      }
      expect(((await rejection(store.list({ runState: 'sleeping' as RunState }))) as Invalid).issues[0]?.path).toBe('runState');
      for (const cursor of ['not-a-cursor', Buffer.from('{"t":1}').toString('base64url')]) {
        const err = await rejection(store.list({ cursor }));
        expect(err).toBeInstanceOf(Invalid);
        expect((err as Invalid).issues[0]?.path).toBe('cursor');
      }
      const asc = await store.list({ order: 'asc', limit: 5 });
      expect(await rejection(store.list({ order: 'desc', limit: 5, cursor: asc.nextCursor! }))).toBeInstanceOf(Invalid);
    });
  });
}
