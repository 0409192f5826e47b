/**
 * The mesh reads whole buckets with one entry per key: on the real NATS a key written while the listing runs (every
 * heartbeat does that to the nodes bucket) can come back twice from the KV adapter's list, and /ui/mesh showed such
 * a node twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { NatsKvStore } from '../../../src/kernel/kv/nats-kv.ts';
import { listDistinct } from '../../../src/modules/mesh/store/buckets.ts';
import { NATS_URL, uniqueName } from '../../helpers/env.ts';

const store = new NatsKvStore({ url: NATS_URL, prefix: uniqueName('mlist') });
afterAll(async () => {
  await store.destroyAll();
  await store.close();
});

describe('listDistinct', () => {
  it('names every key once, with its newest value, while the keys are being written', async () => {
    const kv = await store.bucket('nodes');
    const keys = ['n1', 'n2', 'n3', 'n4', 'n5'];
    for (const k of keys) await kv.put(k, { n: 0 });
    let writing = true;
    const writer = (async () => {
      for (let n = 1; writing; n++) await kv.put(keys[n % keys.length]!, { n });
    })();
    try {
      for (let i = 0; i < 20; i++) {
        const listed = await listDistinct<{ n: number }>(kv);
        expect(listed.map((e) => e.key)).toEqual(keys);
      }
    } finally {
      writing = false;
      await writer;
    }
    const last = await listDistinct<{ n: number }>(kv);
    for (const e of last) expect(e.value).toEqual((await kv.get(e.key))!.value);
  });
});
