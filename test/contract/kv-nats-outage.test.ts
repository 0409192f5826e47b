/** NatsKvStore against a private NATS server that the test kills and restarts: ping, reconnect, lease loss, revisions. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conflict, Unavailable } from '../../src/kernel/errors.ts';
import { KvLeases } from '../../src/kernel/kv/leases.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { childNats, type ChildService } from '../helpers/child-services.ts';
import { uniqueName } from '../helpers/env.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `fn` until it stops throwing. */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await wait(100);
    }
  }
}

describe('NatsKvStore across a NATS outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kv-outage-'));
  const prefix = uniqueName('kvo');
  let nats: ChildService;
  let store: NatsKvStore;

  beforeAll(async () => {
    nats = await childNats(dir);
    await nats.start();
    store = new NatsKvStore({ url: nats.url, prefix });
  });

  afterAll(async () => {
    // The private server's streams go away with its store directory.
    await store?.close();
    await nats?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ping fails with Unavailable while the server is down; the store reconnects by itself and keeps its data', async () => {
    await store.ping();
    const kv = await store.bucket('data');
    const r1 = await kv.put('k', 'before');

    await nats.kill('SIGKILL');
    await expect(store.ping()).rejects.toBeInstanceOf(Unavailable);

    await nats.start();
    await eventually(() => store.ping());
    expect(await eventually(() => kv.get('k'))).toMatchObject({ value: 'before', revision: r1 });
    expect(await kv.put('k', 'after')).toBeGreaterThan(r1);
  });

  it('a holder cut off from the server loses its lease; after the restart the next holder gets a larger token', async () => {
    const ttlMs = 1200;
    const leases = new KvLeases(store, 'cut-off');
    const name = uniqueName('outage');
    const h = await leases.acquire(name, { ttlMs });
    expect(h).toBeDefined();

    await nats.kill('SIGKILL');
    // Renewals cannot reach the server; the holder must give up on its own clock.
    await new Promise<void>((resolve) => h!.lost.addEventListener('abort', () => resolve(), { once: true }));
    expect((h!.lost.reason as Conflict).details.reason).toBe('expired');
    await expect(h!.renew()).rejects.toBeInstanceOf(Conflict);

    await nats.start();
    await eventually(() => store.ping());
    const other = new KvLeases(store, 'next');
    // The stored entry ages out by its original write time, even across the restart; the stream sequence survives.
    const next = await eventually(async () => {
      const got = await other.acquire(name, { ttlMs });
      if (!got) throw new Error('still held');
      return got;
    });
    expect(next.token).toBeGreaterThan(h!.token);
    await next.release();
  });
});
