/**
 * Mesh lease rules on the memory KV and on real NATS JetStream KV: CAS only, token = revision of the winning write,
 * takeover only after the record stayed unchanged for a full lease on the taker's clock, ambiguous (timed-out)
 * writes resolved by re-reading the nonce, release frees at once, an operator fence blocks takers for a lease.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { monotonicMs, sleep, type Kv, type KvStore } from '../../../src/kernel/index.ts';
import { MemoryKvStore } from '../../../src/kernel/kv/memory-kv.ts';
import { NatsKvStore } from '../../../src/kernel/kv/nats-kv.ts';
import { timingSchema } from '../../../src/modules/mesh/model/timing.ts';
import { fenceLease, LeaseClaim } from '../../../src/modules/mesh/runtime/lease.ts';
import { NATS_URL, uniqueName } from '../../helpers/env.ts';

const timing = timingSchema.parse({ leaseMs: 600, renewMs: 100, renewDeadlineMs: 300, stopGraceMs: 100, clockMarginMs: 50, heartbeatMs: 100 });
const nats = new NatsKvStore({ url: NATS_URL, prefix: uniqueName('mlease') });
afterAll(async () => {
  await nats.destroyAll();
  await nats.close();
});

/** A bucket whose next write lands but answers only after `ms` (longer than the claim's timeout). */
function slowOnce(kv: Kv): Kv & { slowNext(): void } {
  let slow = false;
  const delay = async <T>(p: Promise<T>) => {
    const v = await p;
    if (slow) {
      slow = false;
      await sleep(timing.renewMs * 3);
    }
    return v;
  };
  return Object.assign(Object.create(kv) as Kv, {
    create: <T>(k: string, v: T) => delay(kv.create(k, v)),
    update: <T>(k: string, v: T, r: number) => delay(kv.update(k, v, r)),
    get: kv.get.bind(kv),
    delete: kv.delete.bind(kv),
    slowNext: () => void (slow = true),
  });
}

for (const [name, store] of [['memory', new MemoryKvStore()], ['nats', nats]] as [string, KvStore][]) {
  describe(`mesh lease on ${name}`, () => {
    it('wins a free lease by create; the token is that revision; a taker waits a full unchanged lease', async () => {
      const kv = await store.bucket('mesh_leases');
      const a = new LeaseClaim(kv, 'slot.t1.0', { node: 'a', session: 'sa' }, timing);
      const b = new LeaseClaim(kv, 'slot.t1.0', { node: 'b', session: 'sb' }, timing);
      const held = await a.acquire(await a.observe());
      expect(held).toBeDefined();
      expect(held!.token).toBe((await kv.get('slot.t1.0'))!.revision);
      // While a renews, b sees a new revision every time and never gets to a full lease.
      const watchStart = monotonicMs();
      while (monotonicMs() - watchStart < timing.leaseMs * 2) {
        expect(await held!.renew()).toBe('ok');
        const obs = await b.observe();
        expect(await b.acquire(obs)).toBeUndefined();
        await sleep(timing.renewMs);
      }
      // a stops renewing (crash): b takes over only once the record stayed at one revision for the lease.
      const first = await b.observe();
      let taken;
      while (!taken) {
        taken = await b.acquire(await b.observe());
        if (!taken) await sleep(20);
      }
      expect(first.state).toBe('held');
      // b saw a's last renewal after a sent it, so the takeover is at least a lease after that send.
      expect(monotonicMs() - held!.lastRenewSentAt).toBeGreaterThanOrEqual(timing.leaseMs);
      expect(taken.token).toBeGreaterThan(held!.token);
      expect(await held!.renew()).toBe('lost');
      expect(await taken.renew()).toBe('ok');
      await taken.release();
    });

    it('release frees the lease at once', async () => {
      const kv = await store.bucket('mesh_leases');
      const a = new LeaseClaim(kv, 'slot.t2.0', { node: 'a', session: 'sa' }, timing);
      const b = new LeaseClaim(kv, 'slot.t2.0', { node: 'b', session: 'sb' }, timing);
      const held = await a.acquire(await a.observe());
      await held!.release();
      const obs = await b.observe();
      expect(obs.state).toBe('free');
      const next = await b.acquire(obs);
      expect(next!.token).toBeGreaterThan(held!.token);
      await next!.release();
    });

    it('an acquire or renewal that timed out but landed is found by its nonce', async () => {
      const raw = await store.bucket('mesh_leases');
      const kv = slowOnce(raw);
      const a = new LeaseClaim(kv, 'slot.t3.0', { node: 'a', session: 'sa' }, timing);
      kv.slowNext();
      const held = await a.acquire(await a.observe());
      expect(held, 'the timed-out create was ours').toBeDefined();
      expect((await raw.get<{ nonce: string }>('slot.t3.0'))!.revision).toBe(held!.token);
      kv.slowNext();
      expect(await held!.renew()).toBe('unknown');
      // The timed-out renewal landed: the next CAS conflicts, the re-read finds our nonce, and the lease is still ours.
      expect(await held!.renew()).toBe('ok');
      expect(await held!.renew()).toBe('ok');
      await held!.release();
    });

    it('an operator fence makes the holder lose, bumps the token, and still blocks takers for a lease', async () => {
      const kv = await store.bucket('mesh_leases');
      const a = new LeaseClaim(kv, 'slot.t4.0', { node: 'a', session: 'sa' }, timing);
      const b = new LeaseClaim(kv, 'slot.t4.0', { node: 'b', session: 'sb' }, timing);
      const held = await a.acquire(await a.observe());
      const fenced = await fenceLease(kv, 'slot.t4.0', 'operator');
      expect(fenced).toBeGreaterThan(held!.token);
      expect(await held!.renew()).toBe('lost');
      const obs = await b.observe();
      expect(obs.state).toBe('held');
      expect(await b.acquire(obs)).toBeUndefined();
    });
  });
}
