/** The Database contract: PostgreSQL and PGlite must pass these tests unchanged. */
import { asc, like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/kernel/db/migrations.gen.ts';
import type { Database, Db } from '../../src/kernel/db/port.ts';
import { kernelOutbox } from '../../src/kernel/db/schema.ts';
import { uniqueName } from '../helpers/env.ts';
import { rejection } from '../helpers/async.ts';
import { eventually, sleep } from '../kit/index.ts';

/** A fresh, unmigrated database; `another` opens a second Database on it, as another instance would. */
export interface DatabaseFixture {
  db: Database;
  another?: () => Promise<Database>;
  cleanup: () => Promise<void>;
}

/** What an adapter can do beyond the common contract. */
export interface DatabaseCapabilities {
  /** Several instances (and concurrent transactions) on one database: PostgreSQL yes, PGlite no. */
  multipleInstances?: boolean;
}

// The kernel's journal only: module journals are applied when passed to migrate (test/contract/migrations.test.ts).
const allTags = migrations.map((m) => `kernel/${m.tag}`);


/** An error carrying a SQLSTATE, as a driver would raise it. */
function sqlError(code: string): Error & { code: string } {
  return Object.assign(new Error(`synthetic ${code}`), { code });
}

/** The SQLSTATE of an error, looking through drizzle's wrapper. */
function sqlstate(err: unknown): unknown {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  return e.code ?? e.cause?.code;
}

async function eventIds(db: Db, prefix: string): Promise<string[]> {
  const rows = await db.select({ eventId: kernelOutbox.eventId }).from(kernelOutbox).where(like(kernelOutbox.eventId, `${prefix}%`)).orderBy(asc(kernelOutbox.id));
  return rows.map((r) => r.eventId);
}

/** Registers the Database contract for one adapter; `factory` is called once for the suite and once per multi-instance test. */
export function databaseContract(name: string, factory: () => Promise<DatabaseFixture>, caps: DatabaseCapabilities = {}): void {
  describe(`Database contract: ${name}`, () => {
    let fx: DatabaseFixture;
    let firstApplied: string[];
    beforeAll(async () => {
      fx = await factory();
      firstApplied = await fx.db.migrate();
    });
    afterAll(async () => {
      await fx?.cleanup();
    });

    it('migrate applies every kernel migration in order, and a second migrate applies nothing', async () => {
      expect(allTags.length).toBeGreaterThan(0);
      expect(firstApplied).toEqual(allTags);
      expect(await fx.db.migrate()).toEqual([]);
      const recorded = await fx.db.db.execute(sql`SELECT module || '/' || tag AS tag FROM kernel_migrations ORDER BY 1`);
      const rows = Array.isArray(recorded) ? recorded : (recorded as unknown as { rows: unknown[] }).rows;
      expect(rows.map((r) => (r as { tag: string }).tag)).toEqual([...allTags].sort());
    });

    it.runIf(caps.multipleInstances)('three instances migrating at once apply each migration exactly once', async () => {
      const fresh = await factory();
      const others = [await fresh.another!(), await fresh.another!()];
      try {
        const results = await Promise.all([fresh.db, ...others].map((d) => d.migrate()));
        expect(results.flat().sort()).toEqual([...allTags].sort());
        // Whoever applied them applied all of them: the lock spans the whole run, not one migration.
        expect(results.filter((r) => r.length > 0)).toEqual([allTags]);
        const recorded = await fresh.db.db.execute(sql`SELECT module || '/' || tag AS tag, count(*)::int AS n FROM kernel_migrations GROUP BY 1 ORDER BY 1`);
        expect([...(recorded as unknown as { tag: string; n: number }[])]).toEqual([...allTags].sort().map((tag) => ({ tag, n: 1 })));
        await others[0]!.db.insert(kernelOutbox).values({ eventId: uniqueName('mi'), type: 't.x.y', data: {} });
        expect(await fresh.db.db.$count(kernelOutbox)).toBe(1);
      } finally {
        for (const o of others) await o.close();
        await fresh.cleanup();
      }
    });

    it('ping answers while the database is open', async () => {
      await expect(fx.db.ping()).resolves.toBeUndefined();
    });

    it('inserts and selects outbox rows through drizzle, keeping JSON as JSON', async () => {
      const eventId = uniqueName('ins');
      const data = { order: { id: 42, lines: ['a', 'b'] }, note: 'quote " and \\ backslash', ok: true };
      const [inserted] = await fx.db.db.insert(kernelOutbox).values({ eventId, type: 'test.order.placed', data, correlationId: 'run-1' }).returning();
      expect(inserted?.id).toEqual(expect.any(Number));
      const [row] = await fx.db.db.select().from(kernelOutbox).where(sql`${kernelOutbox.eventId} = ${eventId}`);
      expect(row).toMatchObject({ id: inserted!.id, eventId, type: 'test.order.placed', data, correlationId: 'run-1' });
      expect(row?.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(row!.createdAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
      // Stored as a JSON object (not a JSON string holding the object), so SQL can reach inside it.
      const [inside] = await fx.db.db.select({ id: sql<string>`${kernelOutbox.data}->'order'->>'id'` }).from(kernelOutbox).where(sql`${kernelOutbox.eventId} = ${eventId}`);
      expect(inside?.id).toBe('42');
    });

    it('query runs one parameterised statement, the same again and again, with typed parameters as given', async () => {
      const p = `q-${Date.now()}`;
      const insert = `WITH a AS (INSERT INTO kernel_outbox (event_id, type, data, correlation_id) VALUES ($1::text, 't.q.one', ($2::text)::jsonb, $3::text) RETURNING event_id),
        b AS (INSERT INTO kernel_outbox (event_id, type, data) SELECT event_id || '-b', 't.q.two', '{}'::jsonb FROM a RETURNING event_id)
        SELECT (SELECT event_id FROM a) AS a, (SELECT event_id FROM b) AS b`;
      // Three times through the same (prepared, where the adapter prepares) statement.
      for (let i = 0; i < 3; i++) {
        const rows = await fx.db.query<{ a: string; b: string }>(insert, [`${p}-${i}`, JSON.stringify({ i, text: 'it\'s "quoted"' }), null]);
        expect(rows).toEqual([{ a: `${p}-${i}`, b: `${p}-${i}-b` }]);
      }
      const rows = await fx.db.query<{ event_id: string; data: unknown; correlation_id: string | null }>(
        'SELECT event_id, data, correlation_id FROM kernel_outbox WHERE event_id = ANY($1::text[]) ORDER BY id',
        [[`${p}-1`, `${p}-1-b`]],
      );
      expect(rows).toEqual([
        { event_id: `${p}-1`, data: { i: 1, text: 'it\'s "quoted"' }, correlation_id: null },
        { event_id: `${p}-1-b`, data: {}, correlation_id: null },
      ]);
    });

    it('query is one atomic statement: a failing part leaves nothing of the others written', async () => {
      const p = `qa-${Date.now()}`;
      await fx.db.query(`INSERT INTO kernel_outbox (event_id, type, data) VALUES ($1::text, 't.q.x', '{}'::jsonb)`, [`${p}-taken`]);
      const both = `WITH a AS (INSERT INTO kernel_outbox (event_id, type, data) VALUES ($1::text, 't.q.x', '{}'::jsonb) RETURNING 1)
        INSERT INTO kernel_outbox (event_id, type, data) SELECT $2::text, 't.q.x', '{}'::jsonb FROM a`;
      const err = await rejection(fx.db.query(both, [`${p}-new`, `${p}-taken`]));
      expect((err as { code?: string }).code).toBe('23505');
      expect(await eventIds(fx.db.db, p)).toEqual([`${p}-taken`]);
    });

    it('listen hears NOTIFY from a statement or a transaction at commit, not before and not after a rollback; unlisten stops it', async () => {
      const channel = `chan_${Date.now().toString(36)}`;
      const heard: string[] = [];
      const unlisten = await fx.db.listen(channel, (payload) => heard.push(payload));
      const waitFor = (n: number) => eventually(() => heard.length >= n, { timeout: 10_000, interval: 10, what: `${n} notifications heard` });
      await fx.db.query(`SELECT pg_notify($1::text, 'one')`, [channel]);
      await waitFor(1);
      expect(heard).toEqual(['one']);
      let sentBeforeCommit = -1;
      await fx.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_notify(${channel}, 'two')`);
        await sleep(200);
        sentBeforeCommit = heard.length;
      });
      await waitFor(2);
      expect(sentBeforeCommit).toBe(1);
      expect(heard).toEqual(['one', 'two']);
      await rejection(
        fx.db.transaction(async (tx) => {
          await tx.execute(sql`SELECT pg_notify(${channel}, 'rolled back')`);
          throw new Error('roll back');
        }),
      );
      await unlisten();
      await fx.db.query(`SELECT pg_notify($1::text, 'after unlisten')`, [channel]);
      // Nothing may arrive: a pause, not a poll.
      await sleep(300);
      expect(heard).toEqual(['one', 'two']);
    });

    it('a transaction commits everything it wrote and returns its value', async () => {
      const p = uniqueName('commit');
      const result = await fx.db.transaction(async (tx) => {
        await tx.insert(kernelOutbox).values({ eventId: `${p}-1`, type: 't.x.y', data: { n: 1 } });
        await tx.insert(kernelOutbox).values({ eventId: `${p}-2`, type: 't.x.y', data: { n: 2 } });
        return 'done';
      });
      expect(result).toBe('done');
      expect(await eventIds(fx.db.db, p)).toEqual([`${p}-1`, `${p}-2`]);
    });

    it('a transaction that throws leaves nothing written and rethrows the error', async () => {
      const p = uniqueName('rollback');
      const boom = new Error('boom');
      const err = await rejection(
        fx.db.transaction(async (tx) => {
          await tx.insert(kernelOutbox).values({ eventId: `${p}-1`, type: 't.x.y', data: {} });
          await tx.insert(kernelOutbox).values({ eventId: `${p}-2`, type: 't.x.y', data: {} });
          throw boom;
        }),
      );
      expect(err).toBe(boom);
      expect(await eventIds(fx.db.db, p)).toEqual([]);
    });

    it('retries the whole function after a serialization failure (40001) and keeps only the last attempt', async () => {
      const p = uniqueName('retry');
      let attempts = 0;
      const result = await fx.db.transaction(async (tx) => {
        attempts++;
        await tx.insert(kernelOutbox).values({ eventId: `${p}-attempt${attempts}`, type: 't.x.y', data: {} });
        if (attempts === 1) throw sqlError('40001');
        return attempts;
      });
      expect(result).toBe(2);
      expect(attempts).toBe(2);
      expect(await eventIds(fx.db.db, p)).toEqual([`${p}-attempt2`]);
    });

    it('retries a deadlock (40P01) too', async () => {
      let attempts = 0;
      await fx.db.transaction(async () => {
        attempts++;
        if (attempts < 3) throw sqlError('40P01');
      });
      expect(attempts).toBe(3);
    });

    it('does not retry a unique violation (23505): one attempt, the error rethrown', async () => {
      let attempts = 0;
      const thrown = sqlError('23505');
      const err = await rejection(
        fx.db.transaction(async () => {
          attempts++;
          throw thrown;
        }),
      );
      expect(err).toBe(thrown);
      expect(attempts).toBe(1);
    });

    it('a real duplicate event_id fails once with 23505 and rolls back the rest of the transaction', async () => {
      const p = uniqueName('dup');
      await fx.db.db.insert(kernelOutbox).values({ eventId: `${p}-taken`, type: 't.x.y', data: {} });
      let attempts = 0;
      const err = await rejection(
        fx.db.transaction(async (tx) => {
          attempts++;
          await tx.insert(kernelOutbox).values({ eventId: `${p}-new`, type: 't.x.y', data: {} });
          await tx.insert(kernelOutbox).values({ eventId: `${p}-taken`, type: 't.x.y', data: {} });
        }),
      );
      expect(sqlstate(err)).toBe('23505');
      expect(attempts).toBe(1);
      expect(await eventIds(fx.db.db, p)).toEqual([`${p}-taken`]);
    });

    it('stops after `attempts` tries when the failure stays transient', async () => {
      let attempts = 0;
      const err = await rejection(
        fx.db.transaction(
          async () => {
            attempts++;
            throw sqlError('40001');
          },
          { attempts: 2 },
        ),
      );
      expect(sqlstate(err)).toBe('40001');
      expect(attempts).toBe(2);
    });

    it('outbox rows read back in insertion order by id, across and within transactions', async () => {
      const p = uniqueName('order');
      const expected: string[] = [];
      for (let i = 0; i < 4; i++) {
        const id = `${p}-${String(i).padStart(2, '0')}-single`;
        expected.push(id);
        await fx.db.transaction((tx) => tx.insert(kernelOutbox).values({ eventId: id, type: 't.x.y', data: { i } }));
      }
      // Names that sort differently from their insertion order, so ORDER BY id is what is being tested.
      const batch = ['zz', 'aa', 'mm'].map((s) => `${p}-${s}-batch`);
      expected.push(...batch);
      await fx.db.transaction((tx) => tx.insert(kernelOutbox).values(batch.map((eventId) => ({ eventId, type: 't.x.y', data: {} }))));
      const rows = await fx.db.db.select().from(kernelOutbox).where(like(kernelOutbox.eventId, `${p}%`)).orderBy(asc(kernelOutbox.id));
      expect(rows.map((r) => r.eventId)).toEqual(expected);
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.id).toBeGreaterThan(rows[i - 1]!.id);
    });

    it.runIf(caps.multipleInstances)('two serializable transactions in write skew: one is retried and both succeed serially', async () => {
      const p = uniqueName('skew');
      let attempts = 0;
      let arrived = 0;
      let release!: () => void;
      const bothRead = new Promise<void>((resolve) => (release = resolve));
      // Each reads how many rows exist, then inserts its own; run side by side, that is not serializable.
      const run = (who: string) =>
        fx.db.transaction(
          async (tx) => {
            const attempt = ++attempts;
            const n = await tx.$count(kernelOutbox, like(kernelOutbox.eventId, `${p}%`));
            if (attempt <= 2 && ++arrived === 2) release();
            if (attempt <= 2) await bothRead;
            await tx.insert(kernelOutbox).values({ eventId: `${p}-${who}`, type: 't.x.y', data: { saw: n } });
            return n;
          },
          { isolationLevel: 'serializable' },
        );
      const seen = await Promise.all([run('a'), run('b')]);
      expect(seen.sort()).toEqual([0, 1]);
      expect(attempts).toBe(3);
    });
  });
}
