/** The Lease contract over any KvStore: exclusivity, fencing tokens, renewal, a lost signal before takeover, crash takeover. */
import { describe, expect, it } from 'vitest';
import { KvLeases } from '../../src/kernel/kv/leases.ts';
import type { KvStore, LeaseHolder } from '../../src/kernel/kv/port.ts';
import { Conflict } from '../../src/kernel/errors.ts';
import { uniqueName } from '../helpers/env.ts';
import { eventually, sleep } from '../kit/index.ts';


/** Why a holder's lost signal fired, as KvLeases reports it. */
const lostReason = (h: LeaseHolder) => (h.lost.reason as Conflict | undefined)?.details.reason;

/** What a factory gives the suite. */
export interface LeasesFixture {
  /** Two stores as two processes would have them (same backend). */
  stores: [KvStore, KvStore];
  /** Holds `name` in a separate holder that then dies without releasing; resolves once held. */
  crashHolder(name: string, ttlMs: number): Promise<{ token: number; kill(): Promise<void> }>;
}

/** Polls acquire until granted; returns the holder and the time it took. */
async function acquireWithin(leases: KvLeases, name: string, ttlMs: number, limitMs: number) {
  const started = Date.now();
  const holder = await eventually(async () => (await leases.acquire(name, { ttlMs })) ?? undefined, { timeout: limitMs, interval: 50, what: `lease ${name} granted` });
  return { holder, ms: Date.now() - started };
}

/** Runs the leases suite. */
export function leasesContract(name: string, factory: () => Promise<LeasesFixture>): void {
  describe(`Leases contract: ${name}`, () => {
    const TTL = 1200;

    it('refuses a second owner while held; a released lease goes at once to the next, with a larger token', async () => {
      const f = await factory();
      const [a, b] = [new KvLeases(f.stores[0], 'owner-a'), new KvLeases(f.stores[1], 'owner-b')];
      const lease = uniqueName('l');
      const ha = await a.acquire(lease, { ttlMs: TTL });
      expect(ha).toBeDefined();
      expect(await b.acquire(lease, { ttlMs: TTL })).toBeUndefined();
      expect(await b.holder(lease, TTL)).toMatchObject({ name: lease, owner: 'owner-a', token: ha!.token });
      await ha!.release();
      expect(ha!.lost.aborted).toBe(true);
      expect(lostReason(ha!)).toBe('released');
      const hb = await b.acquire(lease, { ttlMs: TTL });
      expect(hb?.owner).toBe('owner-b');
      expect(hb!.token).toBeGreaterThan(ha!.token);
      await hb!.release();
    });

    it('fencing tokens strictly increase across successive holders', async () => {
      const f = await factory();
      const leases = [new KvLeases(f.stores[0], 'x'), new KvLeases(f.stores[1], 'y')];
      const lease = uniqueName('f');
      const tokens: number[] = [];
      for (let i = 0; i < 6; i++) {
        const h = await leases[i % 2]!.acquire(lease, { ttlMs: TTL });
        tokens.push(h!.token);
        await h!.release();
      }
      expect([...tokens].sort((p, q) => p - q)).toEqual(tokens);
      expect(new Set(tokens).size).toBe(tokens.length);
    });

    it('renewals keep the lease over several TTLs, and the token stays the same', async () => {
      const f = await factory();
      const [a, b] = [new KvLeases(f.stores[0], 'a'), new KvLeases(f.stores[1], 'b')];
      const lease = uniqueName('r');
      const h = await a.acquire(lease, { ttlMs: TTL });
      await sleep(TTL * 3);
      expect(h!.lost.aborted).toBe(false);
      expect(await b.acquire(lease, { ttlMs: TTL })).toBeUndefined();
      expect(await b.holder(lease, TTL)).toMatchObject({ owner: 'a', token: h!.token });
      await h!.release();
    });

    it('when renewals stop, `lost` fires before anyone else can acquire', async () => {
      const f = await factory();
      const [a, b] = [new KvLeases(f.stores[0], 'a'), new KvLeases(f.stores[1], 'b')];
      const lease = uniqueName('s');
      const h = await a.acquire(lease, { ttlMs: TTL, autoRenew: false });
      let lostAt = 0;
      h!.lost.addEventListener('abort', () => (lostAt = performance.now()));
      const { holder: hb } = await acquireWithin(b, lease, TTL, TTL * 10);
      const grantedAt = performance.now();
      expect(lostAt, 'lost fired').toBeGreaterThan(0);
      expect(lostAt).toBeLessThanOrEqual(grantedAt);
      expect(lostReason(h!)).toBe('expired');
      expect(hb.token).toBeGreaterThan(h!.token);
      await expect(h!.renew()).rejects.toThrow(/lost/);
      await hb.release();
    });

    it('renew after another owner took over reports Conflict and fires lost', async () => {
      const f = await factory();
      const a = new KvLeases(f.stores[0], 'a');
      const lease = uniqueName('c');
      const h = await a.acquire(lease, { ttlMs: TTL, autoRenew: false });
      // Simulate a takeover the holder has not noticed: the key is rewritten behind its back.
      const kv = await f.stores[1].bucket(`leases-${TTL}`, { ttlMs: TTL });
      await kv.put(lease, { owner: 'intruder', acquiredAt: new Date().toISOString() });
      await expect(h!.renew()).rejects.toBeInstanceOf(Conflict);
      expect(h!.lost.aborted).toBe(true);
      expect(lostReason(h!)).toBe('taken');
    });

    it('after the holder dies without releasing, another acquires within TTL + 1 s', async () => {
      const f = await factory();
      const b = new KvLeases(f.stores[1], 'survivor');
      const lease = uniqueName('k');
      const crashed = await f.crashHolder(lease, TTL);
      expect(await b.acquire(lease, { ttlMs: TTL })).toBeUndefined();
      await crashed.kill();
      const { holder, ms } = await acquireWithin(b, lease, TTL, TTL * 10);
      expect(ms).toBeLessThanOrEqual(TTL + 1000);
      expect(holder.token).toBeGreaterThan(crashed.token);
      await holder.release();
    });

    it('rejects a TTL that is too short', async () => {
      const f = await factory();
      await expect(new KvLeases(f.stores[0], 'a').acquire(uniqueName('t'), { ttlMs: 10 })).rejects.toThrow(/ttl/);
    });
  });
}
