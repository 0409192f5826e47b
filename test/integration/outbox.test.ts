/** The transactional outbox: events enqueued in a committed transaction reach the bus once, in order; rolled-back ones never do. */
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { EventBus, EventEnvelope } from '../../src/kernel/bus/port.ts';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import { NatsBus } from '../../src/kernel/bus/nats-bus.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { createPgliteDatabase } from '../../src/kernel/db/pglite-database.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { kernelOutbox } from '../../src/kernel/db/schema.ts';
import { Invalid } from '../../src/kernel/errors.ts';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import type { KvStore } from '../../src/kernel/kv/port.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { enqueueEvent, notifyOutboxWritten, outboxDepth, startOutboxRelay } from '../../src/kernel/outbox.ts';
import { rejection } from '../helpers/async.ts';
import { NATS_URL, PG_URL, uniqueName } from '../helpers/env.ts';
import { testRoles } from '../helpers/roles.ts';
import { eventually, sleep } from '../kit/index.ts';

const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

interface Setup {
  db: Database;
  bus: EventBus;
  kv: [KvStore, KvStore];
}

function outboxSuite(name: string, setup: () => Promise<Setup>) {
  // Each test sets up its own database; a cold PGlite on a loaded two-core box can take most of the default 30 s.
  describe(`outbox: ${name}`, { timeout: 90_000 }, () => {
    it('publishes committed events once and in order, never rolled-back ones; two relays elect one leader', async () => {
      const { db, bus, kv } = await setup();
      const prefix = uniqueName('ob').replace(/_/g, '');
      const seen: EventEnvelope[] = [];
      const sub = await bus.subscribe(`${prefix}.>`, (e) => {
        seen.push(e);
      });
      const relays = [0, 1].map((i) =>
        startOutboxRelay({ db, bus, roles: testRoles(kv[i]!, `relay-${i}`), log, registry: new Registry(), source: `relay-${i}`, leaseTtlMs: 1000, batchSize: 7 }),
      );
      cleanups.push(async () => {
        for (const r of relays) await r.stop();
        await sub.unsubscribe();
      });
      const committed: string[] = [];
      for (let i = 0; i < 30; i++) {
        committed.push(await db.transaction((tx) => enqueueEvent(tx, { type: `${prefix}.n.${i}`, data: { i }, correlationId: 'c' })));
      }
      await expect(
        db.transaction(async (tx) => {
          await enqueueEvent(tx, { type: `${prefix}.rolled.back`, data: {} });
          throw new Error('abort the transaction');
        }),
      ).rejects.toThrow('abort');
      await eventually(() => seen.length >= 30, { timeout: 20_000, what: '30 events published' });
      // Nothing more may arrive (the rolled-back event): a pause, not a poll.
      await sleep(300);
      expect(seen.map((e) => e.id)).toEqual(committed);
      expect(seen.map((e) => (e.data as { i: number }).i)).toEqual([...Array(30).keys()]);
      expect(seen.some((e) => e.type.endsWith('rolled.back'))).toBe(false);
      expect(seen[0]?.correlationId).toBe('c');
      expect(await outboxDepth(db)).toBe(0);
    });

    it('refuses at enqueue an event the bus would refuse (bad type or routing token): its transaction writes nothing', async () => {
      const { db } = await setup();
      const prefix = uniqueName('obv').replace(/_/g, '');
      for (const bad of [{ type: `${prefix}.a b` }, { type: `${prefix}.ok`, route: ['a b'] }, { type: `${prefix}.ok`, route: [''] }, { type: `${prefix}.ok`, route: ['*'] }]) {
        const err = await rejection(
          db.transaction(async (tx) => {
            await enqueueEvent(tx, { type: `${prefix}.fine`, data: 1 });
            await enqueueEvent(tx, { ...bad, data: 2 });
          }),
        );
        expect(err, JSON.stringify(bad)).toBeInstanceOf(Invalid);
      }
      expect(await outboxDepth(db)).toBe(0);
    });

    it('drops a row the bus refuses (logged) instead of retrying its whole batch forever; the rest are published and deleted', async () => {
      const { db, bus, kv } = await setup();
      const prefix = uniqueName('obp').replace(/_/g, '');
      const seen: EventEnvelope[] = [];
      const sub = await bus.subscribe(`${prefix}.>`, (e) => {
        seen.push(e);
      });
      const lines: string[] = [];
      const errorLog = pino({ level: 'error' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
      const ids = [await db.transaction((tx) => enqueueEvent(tx, { type: `${prefix}.before`, data: 1 }))];
      // A row no bus accepts (written by hand, or by a version that did not check it): a type with a space.
      await db.db.insert(kernelOutbox).values({ eventId: `${prefix}-poison`, type: `${prefix}.bad type`, data: {} });
      ids.push(await db.transaction((tx) => enqueueEvent(tx, { type: `${prefix}.after`, data: 2 })));
      const relay = startOutboxRelay({ db, bus, roles: testRoles(kv[0], 'relay-p'), log: errorLog, registry: new Registry(), source: 'relay-p', leaseTtlMs: 5_000 });
      cleanups.push(async () => {
        await relay.stop();
        await sub.unsubscribe();
      });
      await eventually(async () => seen.length >= 2 && (await outboxDepth(db)) === 0, { timeout: 15_000, what: 'both events published and the outbox empty' });
      expect(seen.map((e) => e.id)).toEqual(ids);
      expect(await outboxDepth(db)).toBe(0);
      expect(lines.join('')).toContain(`${prefix}-poison`);
    });

    it('a commit with no notice in this process still wakes an idle relay, through LISTEN/NOTIFY', async () => {
      const { db, bus, kv } = await setup();
      const prefix = uniqueName('obn').replace(/_/g, '');
      const seen: EventEnvelope[] = [];
      const sub = await bus.subscribe(`${prefix}.>`, (e) => {
        seen.push(e);
      });
      // Both poll periods far beyond the test's patience: only the database's notification can wake the relay.
      const relay = startOutboxRelay({ db, bus, roles: testRoles(kv[0], 'relay-n'), log, registry: new Registry(), source: 'relay-n', leaseTtlMs: 5_000, idleMs: 600_000, listeningIdleMs: 600_000 });
      cleanups.push(async () => {
        await relay.stop();
        await sub.unsubscribe();
      });
      // Let the relay take its lease and start listening.
      await sleep(700);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(await db.transaction((tx) => enqueueEvent(tx, { type: `${prefix}.n`, data: { i } })));
        await eventually(() => seen.length >= i + 1, { timeout: 10_000, interval: 20, what: `event ${i} published` });
      }
      expect(seen.map((e) => e.id)).toEqual(ids);
    });

    it('publishes a routed event on its subject, and a writer\'s notice wakes an idle relay', async () => {
      const { db, bus, kv } = await setup();
      const prefix = uniqueName('obr').replace(/_/g, '');
      const routed: EventEnvelope[] = [];
      const sub = await bus.subscribe(`${prefix}.changed.>`, (e) => {
        routed.push(e);
      });
      // An idle period far longer than the test's patience: the event can only arrive in time if the notice wakes the relay.
      const relay = startOutboxRelay({ db, bus, roles: testRoles(kv[0], 'relay-w'), log, registry: new Registry(), source: 'relay-w', leaseTtlMs: 5_000, idleMs: 600_000 });
      cleanups.push(async () => {
        await relay.stop();
        await sub.unsubscribe();
      });
      // Let the relay take its lease and find the outbox empty, so it is waiting its idle period.
      await sleep(500);
      const id = await db.transaction((tx) => enqueueEvent(tx, { type: `${prefix}.changed`, data: { n: 1 }, route: ['wf', 'paid'] }));
      notifyOutboxWritten();
      await eventually(() => routed.length >= 1, { timeout: 10_000, interval: 20, what: 'the routed event published' });
      expect(routed.map((e) => [e.id, e.type])).toEqual([[id, `${prefix}.changed`]]);
    });
  });
}

outboxSuite('PGlite + memory bus + memory KV', async () => {
  const db = await createPgliteDatabase({});
  await db.migrate();
  const kv = new MemoryKvStore();
  cleanups.push(() => db.close());
  return { db, bus: new MemoryBus({ source: 'test' }), kv: [kv, kv] };
});

outboxSuite('PostgreSQL + NATS', async () => {
  const schema = uniqueName('outbox').toLowerCase();
  const db = await createPostgresDatabase({ url: PG_URL, schema });
  await db.migrate();
  const prefix = uniqueName('obx').toLowerCase();
  const bus = await NatsBus.connect({ url: NATS_URL, prefix, source: 'test' });
  const kvs: [NatsKvStore, NatsKvStore] = [new NatsKvStore({ url: NATS_URL, prefix }), new NatsKvStore({ url: NATS_URL, prefix })];
  cleanups.push(async () => {
    await kvs[0].destroyAll();
    await Promise.all(kvs.map((k) => k.close()));
    await bus.deleteStream();
    await bus.close();
    await db.db.execute(sql.raw(`DROP SCHEMA "${schema}" CASCADE`));
    await db.close();
  });
  return { db, bus, kv: kvs };
});
