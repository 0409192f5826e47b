/** The KV contract: every KvStore adapter must pass it unchanged. */
import { describe, expect, it } from 'vitest';
import { Conflict, Invalid } from '../../src/kernel/errors.ts';
import type { KvChange, KvStore } from '../../src/kernel/kv/port.ts';
import { uniqueName } from '../helpers/env.ts';
import { eventually, sleep as wait } from '../kit/index.ts';

/** Runs the KV suite against the store `factory` returns. */
export function kvContract(name: string, factory: () => Promise<KvStore>): void {
  describe(`KV contract: ${name}`, () => {
    const bucket = async (opts?: { ttlMs?: number }) => (await factory()).bucket(uniqueName('b').replace(/_/g, '-'), opts);

    it('put/get with increasing revisions across the bucket; JSON values round-trip', async () => {
      const kv = await bucket();
      const r1 = await kv.put('a.one', { n: 1, list: [1, 'x'] });
      expect(await kv.get('a.one')).toEqual({ key: 'a.one', value: { n: 1, list: [1, 'x'] }, revision: r1 });
      const r2 = await kv.put('a.one', { n: 2 });
      expect(r2).toBeGreaterThan(r1);
      expect(await kv.get('a.one')).toEqual({ key: 'a.one', value: { n: 2 }, revision: r2 });
      // Revisions are per bucket, not per key (leases rely on this for fencing tokens).
      expect(await kv.put('a.two', null)).toBeGreaterThan(r2);
      expect(await kv.get('a.missing')).toBeUndefined();
    });

    it('create only if absent; again after delete', async () => {
      const kv = await bucket();
      const r1 = await kv.create('k', 'first');
      await expect(kv.create('k', 'second')).rejects.toBeInstanceOf(Conflict);
      expect((await kv.get('k'))?.value).toBe('first');
      await kv.delete('k');
      expect(await kv.get('k')).toBeUndefined();
      const r2 = await kv.create('k', 'third');
      expect(r2).toBeGreaterThan(r1);
      expect((await kv.get('k'))?.value).toBe('third');
    });

    it('update only at the current revision', async () => {
      const kv = await bucket();
      const r1 = await kv.put('k', 1);
      const r2 = await kv.update('k', 2, r1);
      await expect(kv.update('k', 3, r1)).rejects.toBeInstanceOf(Conflict);
      expect(await kv.get('k')).toMatchObject({ value: 2, revision: r2 });
      await expect(kv.update('absent', 1, 1)).rejects.toBeInstanceOf(Conflict);
    });

    it('delete with a revision only when still at it', async () => {
      const kv = await bucket();
      const r1 = await kv.put('k', 1);
      await kv.put('k', 2);
      await expect(kv.delete('k', { revision: r1 })).rejects.toBeInstanceOf(Conflict);
      expect((await kv.get('k'))?.value).toBe(2);
      const current = (await kv.get('k'))!.revision;
      await kv.delete('k', { revision: current });
      expect(await kv.get('k')).toBeUndefined();
    });

    it('list by prefix, sorted, without deleted keys', async () => {
      const kv = await bucket();
      await kv.put('svc.b', 2);
      await kv.put('svc.a', 1);
      await kv.put('svc.c', 3);
      await kv.put('other.x', 0);
      await kv.delete('svc.c');
      expect((await kv.list('svc.')).map((e) => [e.key, e.value])).toEqual([
        ['svc.a', 1],
        ['svc.b', 2],
      ]);
      expect((await kv.list()).map((e) => e.key)).toEqual(['other.x', 'svc.a', 'svc.b']);
    });

    // On NATS a key written while the listing runs came back twice (every mesh heartbeat does that to its bucket).
    it('list names every key once, at its newest value, while the keys are being written', async () => {
      const kv = await bucket();
      const keys = ['n1', 'n2', 'n3', 'n4', 'n5'];
      for (const k of keys) await kv.put(k, 0);
      let writing = true;
      // Three writers, so that most listings overlap several rewrites of every key. The client's key listing (an
      // ordered consumer, last message per subject, ended when the server says nothing is pending) came back with
      // one key several times and others missing in about 1 of 100 such listings against NATS 2.9.10: 200 listings
      // catch that almost always.
      const writers = [0, 1, 2].map((w) =>
        (async () => {
          for (let n = w; writing; n += 3) await kv.put(keys[n % keys.length]!, n);
        })(),
      );
      try {
        for (let i = 0; i < 200; i++) expect((await kv.list<number>()).map((e) => e.key)).toEqual(keys);
      } finally {
        writing = false;
        await Promise.all(writers);
      }
      for (const e of await kv.list<number>()) expect(e.value).toBe((await kv.get<number>(e.key))!.value);
    });

    it('watch sees puts and deletes under its prefix only, from now on', async () => {
      const kv = await bucket();
      await kv.put('w.before', 0);
      const seen: KvChange[] = [];
      const w = await kv.watch('w.', (c) => seen.push(c));
      const r = await kv.put('w.a', 1);
      await kv.put('x.other', 2);
      await kv.delete('w.a');
      await eventually(() => seen.length >= 2);
      await wait(100);
      await w.stop();
      expect(seen.map((c) => [c.op, c.key])).toEqual([
        ['put', 'w.a'],
        ['delete', 'w.a'],
      ]);
      expect(seen[0]).toMatchObject({ value: 1, revision: r });
    });

    it('a TTL bucket forgets entries silently; an expired key can be created again with a larger revision', async () => {
      const kv = await bucket({ ttlMs: 1000 });
      const seen: KvChange[] = [];
      const w = await kv.watch('', (c) => seen.push(c));
      const r1 = await kv.put('t', 'x');
      expect((await kv.get('t'))?.value).toBe('x');
      await eventually(async () => (await kv.get('t')) === undefined, { timeout: 10_000 });
      expect(await kv.list()).toEqual([]);
      await expect(kv.update('t', 'z', r1)).rejects.toBeInstanceOf(Conflict);
      const r2 = await kv.create('t', 'y');
      expect(r2).toBeGreaterThan(r1);
      expect((await kv.get('t'))?.value).toBe('y');
      await eventually(() => seen.length >= 2);
      await w.stop();
      // As on NATS 2.9, expiry writes nothing: watchers see the two puts and no delete.
      expect(seen.map((c) => [c.op, c.revision])).toEqual([
        ['put', r1],
        ['put', r2],
      ]);
    });

    it('rejects invalid keys with Invalid', async () => {
      const kv = await bucket();
      for (const bad of ['', 'a b', 'a..b', '.a', 'a.', 'a*', 'a>']) await expect(kv.put(bad, 1), bad).rejects.toBeInstanceOf(Invalid);
    });
  });
}
