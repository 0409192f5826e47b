/**
 * The backup and restore procedures of docs/deploy.md, tried once each: PostgreSQL with `pg_dump -Fc` and
 * `pg_restore` into an empty database, and the NATS stream by copying the JetStream store folder of a stopped
 * server and starting a server on the copy. What a user checks: the same rows, no migration left to apply, the same
 * events in the stream, and a durable consumer resuming where it stopped.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsBus } from '../../src/kernel/bus/nats-bus.ts';
import { streamNameFor } from '../../src/kernel/bus/nats-stream.ts';
import type { EventEnvelope } from '../../src/kernel/bus/port.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { enqueueEvent } from '../../src/kernel/outbox.ts';
import { eventually } from '../helpers/async.ts';
import { childNats } from '../helpers/child-services.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';

const dir = mkdtempSync(join(tmpdir(), 'capstan-backup-'));
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('backup and restore (docs/deploy.md)', () => {
  it('PostgreSQL: pg_dump -Fc, pg_restore into an empty database, and Capstan finds everything there', async () => {
    const [source, target] = await Promise.all([createTestDatabase('bkp_src'), createTestDatabase('bkp_dst')]);
    cleanups.push(source.drop, target.drop);
    const db = await createPostgresDatabase({ url: source.url, max: 2 });
    cleanups.push(() => db.close());
    await db.migrate(ALL_MODULE_MIGRATIONS);
    await db.query(`INSERT INTO workflow_runs (run_id, workflow, foreign_id, run_state, status, version, object) VALUES ('r1', 'orders', 'o-1', 'running', 'paid', 3, '{"total": 12.5}'::jsonb)`);
    await db.query(`INSERT INTO workflow_history (run_id, version, status, run_state) VALUES ('r1', 1, 'new', 'initiated'), ('r1', 2, 'checked', 'running'), ('r1', 3, 'paid', 'running')`);
    await db.transaction((tx) => enqueueEvent(tx, { type: 'workflow.run.status_changed', data: { runId: 'r1' }, correlationId: 'r1' }));

    // The documented commands, as written (the URL stands for `-d capstan`).
    const dump = join(dir, 'capstan.dump');
    execFileSync('pg_dump', ['-Fc', '-d', source.url, '-f', dump], { stdio: 'pipe' });
    execFileSync('pg_restore', ['-d', target.url, dump], { stdio: 'pipe' });

    const restored = await createPostgresDatabase({ url: target.url, max: 2 });
    cleanups.push(() => restored.close());
    expect(await restored.migrate(ALL_MODULE_MIGRATIONS)).toEqual([]);
    const read = async (d: typeof db) => ({
      runs: await d.query('SELECT run_id, workflow, foreign_id, run_state, status, version, object FROM workflow_runs ORDER BY run_id'),
      history: await d.query('SELECT run_id, version, status, run_state, created_at::text FROM workflow_history ORDER BY id'),
      outbox: await d.query('SELECT event_id, type, data, correlation_id FROM kernel_outbox ORDER BY id'),
      migrations: await d.query('SELECT count(*)::int AS n FROM kernel_migrations'),
    });
    const before = await read(db);
    expect(before.history).toHaveLength(3);
    expect(before.outbox).toHaveLength(1);
    expect(await read(restored)).toEqual(before);
    // The restored database takes writes where the old one left off (sequences came with the dump).
    await restored.query(`INSERT INTO workflow_history (run_id, version, status, run_state) VALUES ('r1', 4, 'shipped', 'running')`);
    const ids = await restored.query<{ id: string | number }>('SELECT id FROM workflow_history ORDER BY id');
    expect(ids.map((r) => Number(r.id))).toEqual([1, 2, 3, 4]);
  });

  it('NATS: the store folder of a stopped server, copied, serves the same stream and consumer positions', async () => {
    const storeA = join(dir, 'nats-a');
    const natsA = await childNats(storeA);
    await natsA.start();
    cleanups.push(() => natsA.kill());
    const prefix = 'bkp';
    const bus = await NatsBus.connect({ url: natsA.url, prefix, source: 'backup-test' });
    for (let i = 1; i <= 5; i++) await bus.publish('bkp.item.made', { i });
    // A durable that has handled the first three events, so the copy must keep its position as well as the events.
    const handled: number[] = [];
    // A short ack wait: events 4 and 5 may sit fetched but unhandled in the client when it unsubscribes; the restored
    // server hands them out again only after the ack wait (30 s by default, longer than the wait below).
    const sub = await bus.durable({ name: 'reader', pattern: 'bkp.item.made', start: 'all', ackWaitMs: 2_000 }, async (e: EventEnvelope) => {
      const i = (e.data as { i: number }).i;
      if (i > 3) throw new Error('not yet');
      handled.push(i);
    });
    await eventually('three events handled', async () => (handled.length === 3 ? true : undefined));
    await sub.unsubscribe();
    await bus.close();
    // The position to keep is the server's: its ack floor, read back before the stop and again on the copy, so that a
    // failure says which side lost it (and a durable re-created from scratch cannot pass for a restored one).
    const ackFloor = async (url: string) => {
      const nc = await connect({ servers: url });
      try {
        const info = await (await jetstreamManager(nc)).consumers.info(streamNameFor(prefix), 'reader');
        return info.ack_floor.stream_seq;
      } finally {
        await nc.close();
      }
    };
    expect(await ackFloor(natsA.url)).toBe(3);

    // The procedure: stop the server (SIGTERM lets JetStream flush), copy its -sd folder, start a server on the copy.
    await natsA.kill('SIGTERM');
    const storeB = join(dir, 'nats-b');
    cpSync(storeA, storeB, { recursive: true });
    const natsB = await childNats(storeB);
    await natsB.start();
    cleanups.push(() => natsB.kill());
    expect(await ackFloor(natsB.url), 'the copied store kept the consumer and its ack floor').toBe(3);

    const restored = await NatsBus.connect({ url: natsB.url, prefix, source: 'backup-test' });
    cleanups.push(() => restored.close());
    const resumed: number[] = [];
    const again = await restored.durable({ name: 'reader', pattern: 'bkp.item.made', start: 'all', ackWaitMs: 2_000 }, async (e: EventEnvelope) => {
      resumed.push((e.data as { i: number }).i);
    });
    await eventually('the durable resumes after the last acknowledged event', async () => (resumed.length >= 2 ? true : undefined));
    await again.unsubscribe();
    expect(resumed.sort()).toEqual([4, 5]);
    // A new durable reading from the start sees all five events: the stream itself came with the copy.
    const all: number[] = [];
    const fresh = await restored.durable({ name: 'audit', pattern: 'bkp.item.made', start: 'all' }, async (e: EventEnvelope) => {
      all.push((e.data as { i: number }).i);
    });
    await eventually('all five events', async () => (all.length >= 5 ? true : undefined));
    await fresh.unsubscribe();
    expect(all).toEqual([1, 2, 3, 4, 5]);
  });
});
