/** The timeout part of the workflow store contract; registered inside the store suite, on its database. */
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/kernel/db/port.ts';
import type { RecordStore } from '../../src/modules/workflow/store.ts';
import { rejection } from '../helpers/async.ts';
import { uniqueName } from '../helpers/env.ts';

// Far in the past, so these rows expire before anything another test arms and lead every expiry list.
const BASE = Date.parse('2000-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(BASE + seconds * 1_000);

/** Registers the timeout-store tests; `ctx` yields the suite's store and database once they exist. */
export function workflowTimeoutsContract(ctx: () => { store: RecordStore; db: Database }): void {
  describe('timeouts', () => {
    it('returns expired pending timeouts in expiry order, up to the limit, and not the ones still in the future', async () => {
      const { store } = ctx();
      const runId = uniqueName('run');
      const add = (status: string, s: number) => store.addTimeout({ runId, workflow: 'wf', status, expiresAt: at(s) });
      const third = await add('c', 30);
      const first = await add('a', 10);
      const second = await add('b', 20);
      const future = await store.addTimeout({ runId, workflow: 'wf', status: 'd', expiresAt: new Date(Date.now() + 3_600_000) });
      const expired = await store.expiredTimeouts(new Date(), 1_000);
      const mine = expired.filter((t) => t.runId === runId);
      expect(mine.map((t) => [t.id, t.status, t.expiresAt])).toEqual([
        [first, 'a', at(10)],
        [second, 'b', at(20)],
        [third, 'c', at(30)],
      ]);
      expect(mine[0]).toMatchObject({ workflow: 'wf', completedAt: null, cancelledAt: null });
      expect(expired.map((t) => t.expiresAt.getTime())).toEqual([...expired.map((t) => t.expiresAt.getTime())].sort((x, y) => x - y));
      expect((await store.expiredTimeouts(new Date(), 2)).map((t) => t.id)).toEqual([first, second]);
      expect(expired.map((t) => t.id)).not.toContain(future);
      // Exactly at the expiry instant counts as expired.
      expect((await store.expiredTimeouts(at(10), 1_000)).map((t) => t.id)).toEqual([first]);
      expect((await store.expiredTimeouts(new Date(Date.now() + 7_200_000), 1_000)).map((t) => t.id)).toContain(future);
      await store.cancelTimeouts(runId);
    });

    it('completed and cancelled timeouts are not returned, and each completes or cancels once', async () => {
      const { store } = ctx();
      const runId = uniqueName('run');
      const ids = await Promise.all(['a', 'a', 'b', 'c'].map((status, i) => store.addTimeout({ runId, workflow: 'wf', status, expiresAt: at(100 + i) })));
      const pending = async () => (await store.expiredTimeouts(new Date(), 1_000)).filter((t) => t.runId === runId).map((t) => t.id);
      expect(await pending()).toEqual(ids);

      expect(await store.completeTimeout(ids[0]!)).toBe(true);
      expect(await store.completeTimeout(ids[0]!)).toBe(false);
      expect(await pending()).toEqual(ids.slice(1));

      // By status: only the run's pending timeouts at that status.
      expect(await store.cancelTimeouts(runId, 'a')).toBe(1);
      expect(await pending()).toEqual(ids.slice(2));
      expect(await store.cancelTimeouts(uniqueName('other-run'))).toBe(0);
      // Without a status: every pending one of the run.
      expect(await store.cancelTimeouts(runId)).toBe(2);
      expect(await pending()).toEqual([]);
      expect(await store.completeTimeout(ids[3]!)).toBe(false);
      expect(await store.completeTimeout(-1)).toBe(false);
    });

    it("a timeout armed in a transaction that rolls back does not exist", async () => {
      const { store, db } = ctx();
      const runId = uniqueName('run');
      await rejection(
        db.transaction(async (tx) => {
          await store.addTimeout({ runId, workflow: 'wf', status: 'a', expiresAt: at(5) }, tx);
          throw new Error('the transition failed');
        }),
      );
      expect((await store.expiredTimeouts(new Date(), 1_000)).filter((t) => t.runId === runId)).toEqual([]);
      expect(await store.cancelTimeouts(runId)).toBe(0);
    });
  });
}
