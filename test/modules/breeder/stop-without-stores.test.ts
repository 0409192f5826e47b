/**
 * Stop while both PostgreSQL and NATS are down (the KV that carries stops during a database outage lives on NATS):
 * on a private PostgreSQL and a private nats-server (children on free loopback ports, so the shared services other
 * tests use are never touched), two loop slots of one breeder run as two instances (each its own NATS KV connection
 * and stop requests). With both stores down, a stop asked of instance A answers 202 `stop_pending` saying it reached
 * only this instance; A's loop starts no new trial; the request is held in A's memory, put into the KV once NATS is
 * back, and the stop is recorded once (one event) when PostgreSQL is back, after which both slots end.
 * Also, without PostgreSQL: a loop that starts while NATS is away still hears its own instance's stop at once, and
 * picks up the KV's requests once NATS answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../../src/kernel/db/postgres-database.ts';
import type { Job, JobQueue, Logger } from '../../../src/kernel/index.ts';
import { NatsKvStore } from '../../../src/kernel/kv/nats-kv.ts';
import { parseDefinition } from '../../../src/modules/breeder/model/definition.ts';
import { runSlot, type SlotJob } from '../../../src/modules/breeder/runtime/loop.ts';
import { createBreederMetrics } from '../../../src/modules/breeder/runtime/metrics.ts';
import { BreederService } from '../../../src/modules/breeder/runtime/service.ts';
import { StopRequests } from '../../../src/modules/breeder/runtime/stop-requests.ts';
import { createBreederStore, type BreederStore } from '../../../src/modules/breeder/store/index.ts';
import { childNats, type ChildService } from '../../helpers/child-services.ts';
import { uniqueName } from '../../helpers/env.ts';
import { ALL_MODULE_MIGRATIONS } from '../../helpers/module-migrations.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../../helpers/private-postgres.ts';
import { eventually, sleep } from '../../kit/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'breeder-stop-'));
let pg: PrivatePostgres;
let nats: ChildService;
let db: Database;
let store: BreederStore;
let target: Server;
let base: string;
const applied: Record<string, number>[] = [];
const kvStores: NatsKvStore[] = [];
const closers: (() => Promise<void>)[] = [];
/** The slots' abort signals: a failed test leaves its loops running, and the clean-up ends them. */
const aborts: AbortController[] = [];
/** A clean-up step that cannot hold the file up (a client may wait on a server a failed test left down). */
const bounded = (p: Promise<unknown> | undefined) => Promise.race([Promise.resolve(p).catch(() => {}), sleep(5_000)]);

beforeAll(async () => {
  [pg, nats] = await Promise.all([startPrivatePostgres(), childNats(join(dir, 'js'))]);
  await nats.start();
  db = await createPostgresDatabase({ url: pg.url, connectTimeoutSeconds: 2 });
  await db.migrate(ALL_MODULE_MIGRATIONS);
  store = createBreederStore(db);
  target = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/apply') applied.push((JSON.parse(body) as { params: Record<string, number> }).params);
      // A short pause per trial, so that the loops do not race through hundreds of trials during the outage.
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: 1 })), 30);
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
}, 180_000);
afterAll(async () => {
  for (const a of aborts) a.abort();
  for (const c of closers) await bounded(c());
  for (const k of kvStores) await bounded(k.close());
  target?.closeAllConnections();
  await bounded(new Promise((r) => target?.close(r)));
  await bounded(db?.close());
  await bounded(pg?.destroy());
  await bounded(nats?.kill());
  rmSync(dir, { recursive: true, force: true });
});

const logged: string[] = [];
const note = (level: string) => (o: unknown, m: string) => void logged.push(`${level} ${m} ${JSON.stringify(o)}`);
const log = { warn: note('warn'), info: note('info'), debug() {}, error: note('error') } as unknown as Logger;
const why = () => `log:\n${logged.join('\n')}`;

/** One instance's view of the stores: its own NATS KV connection and stop requests. */
function instance(prefix: string, retryMs = 200) {
  const kv = new NatsKvStore({ url: nats.url, prefix });
  kvStores.push(kv);
  const stops = new StopRequests(kv, { retryMs, putWaitMs: 1_000 });
  closers.push(() => stops.close());
  return { kv, stops };
}

describe('stop while PostgreSQL and NATS are both down', { timeout: 150_000 }, () => {
  it('stops this instance’s loop at once, keeps the request, passes it to the KV when NATS returns and records it once when PostgreSQL returns', async () => {
    const prefix = uniqueName('bstop');
    const name = 'both-down';
    const row = await store.create(
      parseDefinition({
        name,
        space: { x: { type: 'float', low: 0, high: 1 } },
        objectives: [{ name: 'y', direction: 'minimize', source: { http: { url: `${base}/value`, path: '$.value' } } }],
        effectuation: { http: { url: `${base}/apply` } },
        run: { max_trials: 400, workers: 2 },
        algorithm: { sampler: 'random', seed: 9 },
      }),
    );
    const b = await store.start(row.id);
    const a = instance(prefix);
    const other = instance(prefix);
    const service = new BreederService(store, {} as JobQueue, { commandsEnabled: false, stops: a.stops, stopRetryMs: 200 }, log);
    const metrics = createBreederMetrics(new Registry());
    const job = (slot: number): Job<SlotJob> => ({ id: `s${slot}`, name: 'slot', queue: 'breeder', data: { breederId: b.id, generation: b.generation, slot }, attempt: 1, progress: async () => {}, signal: abort().signal });
    const abort = () => {
      const c = new AbortController();
      aborts.push(c);
      return c;
    };
    const outage = { bufferLimit: 1000, retryMs: 200 };
    const slotA = runSlot(job(0), { store, metrics, log, stops: a.stops, instanceId: 'instance-a', policy: { commandsEnabled: false }, outage });
    const slotB = runSlot(job(1), { store, metrics, log, stops: other.stops, instanceId: 'instance-b', policy: { commandsEnabled: false }, outage });
    const first = applied.length;
    await eventually(() => applied.length >= first + 4, { what: 'trials before the outage' });

    await Promise.all([pg.stop({ mode: 'fast' }), nats.kill('SIGKILL')]);
    const down = applied.length;
    await eventually(() => applied.length >= down + 4, { what: 'the loops trialling through the outage', timeout: 30_000 });

    const answer = await service.stop(name);
    const seenAt = applied.length;
    expect(answer, why()).toMatchObject({ breeder: name, status: 'stop_pending', reaches: 'this_instance' });
    expect((answer as { detail: string }).detail).toContain('lost if this instance ends first');
    expect(a.stops.held()).toEqual([`stop.${name}`]);
    // This instance's loop hears it without any store: it logs the stop before its next trial.
    await eventually(() => logged.some((l) => l.includes('stop asked for while the database was away') && l.includes('"slot":0')), { what: 'slot 0 saw the stop', timeout: 30_000 });
    // The other instance cannot know yet: its slot goes on trialling (so the trials after the stop are not all A's).
    await eventually(() => applied.length >= seenAt + 4, { what: 'the other instance’s slot still trialling', timeout: 30_000 });
    expect(logged.some((l) => l.includes('stop asked for while the database was away') && l.includes('"slot":1'))).toBe(false);

    // NATS back: the held request goes into the KV (for every instance), and A holds nothing any more.
    await nats.start();
    await eventually(() => a.stops.held().length === 0, { what: 'the request passed to the KV', timeout: 30_000 });
    const check = new NatsKvStore({ url: nats.url, prefix });
    kvStores.push(check);
    expect((await (await check.bucket('breeder-stops')).get(`stop.${name}`))?.value, why()).toMatchObject({ requestedAt: (answer as { requestedAt: string }).requestedAt });

    // PostgreSQL back: the stop is written once, and both slots end.
    await pg.start();
    const [ra, rb] = await Promise.all([slotA, slotB]);
    expect(ra.ended, why()).toBe('stopped');
    expect(typeof rb.ended).toBe('string');
    const after = await store.get(b.id);
    expect(after.status, why()).toBe('stopped');
    const events = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM kernel_outbox WHERE type = 'breeder.breeder.stopped' AND data->>'breederId' = $1`, [b.id]);
    expect(Number(events[0]!.n)).toBe(1);
    // Every trial the target saw is a complete row, once (those run in memory during the outage included); a claim
    // whose answer was lost as the database went down is the only other kind of row (failed, never applied).
    const trials = await store.trials.all(b.id);
    expect(trials.filter((t) => t.state === 'complete').length, why()).toBe(applied.length - first);
    expect(trials.filter((t) => t.state !== 'complete' && !t.error?.startsWith('lost:')), why()).toEqual([]);
  });

  it('a loop that starts while NATS is away hears its own instance’s stop at once and the KV’s once NATS answers', async () => {
    const prefix = uniqueName('bstop2');
    await nats.kill('SIGKILL');
    const a = instance(prefix);
    const ref = { id: 'id-1', name: 'n1' };
    let heard = 0;
    const watch = await a.stops.watch(ref, new Date(Date.now() - 1000), () => heard++);
    expect(watch.shared).toBe(false);
    const r = await a.stops.request('n1');
    expect(r.shared).toBe(false);
    expect(heard).toBe(1);
    await watch.stop();

    // A second loop, of another breeder, started while NATS is away: a request put into the KV by another instance
    // after NATS returns reaches it through the watch set up late.
    let heard2 = 0;
    const watch2 = await a.stops.watch({ id: 'id-2', name: 'n2' }, new Date(Date.now() - 1000), () => heard2++);
    expect(watch2.shared).toBe(false);
    await nats.start();
    const b = instance(prefix);
    await eventually(() => a.stops.held().length === 0, { what: 'the held request of n1 passed to the KV', timeout: 30_000 });
    expect((await b.stops.request('n2')).shared).toBe(true);
    await eventually(() => heard2 === 1, { what: 'the late watch heard the KV’s request', timeout: 30_000 });
    await sleep(300);
    expect(heard2).toBe(1);
    await watch2.stop();
  });
});
