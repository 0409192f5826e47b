/** The rate-limit counter contract (hit and peek), against memory and Redis; Redis counters on two connections share one budget. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchedRedisRateCounter } from '../../src/kernel/http/batched-rate-counter.ts';
import { MemoryRateCounter, RedisRateCounter, type RateCounter } from '../../src/kernel/http/rate-limit.ts';
import { REDIS_URL, uniqueName } from '../helpers/env.ts';
import { eventually } from '../kit/index.ts';

const prefix = uniqueName('rl');
const connections: Redis[] = [];
afterAll(async () => {
  const r = connections[0];
  if (r) {
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
  }
  await Promise.all(connections.map((c) => c.quit()));
});
function redisCounter(): RedisRateCounter {
  const r = new Redis(REDIS_URL);
  connections.push(r);
  return new RedisRateCounter(r, prefix);
}
function batchedCounter(flushMs = 60_000): BatchedRedisRateCounter {
  const r = new Redis(REDIS_URL);
  connections.push(r);
  return new BatchedRedisRateCounter(r, prefix, flushMs);
}

function contract(name: string, make: () => RateCounter, makeSecond: () => RateCounter) {
  describe(`rate counter: ${name}`, () => {
    it('counts hits per key within a window', async () => {
      const c = make();
      const key = uniqueName('k');
      expect((await c.hit(key, 60_000)).count).toBe(1);
      const second = await c.hit(key, 60_000);
      expect(second.count).toBe(2);
      expect(second.resetMs).toBeGreaterThan(0);
      expect(second.resetMs).toBeLessThanOrEqual(60_000);
      expect((await c.hit(`${key}-other`, 60_000)).count).toBe(1);
    });

    it('starts a new window after the old one ends', async () => {
      const c = make();
      const key = uniqueName('w');
      await c.hit(key, 200);
      await c.hit(key, 200);
      await new Promise((r) => setTimeout(r, 350));
      expect(await c.peek(key)).toEqual({ count: 0, resetMs: 0 });
      expect((await c.hit(key, 200)).count).toBe(1);
    });

    it('peeks at a count without adding to it', async () => {
      const c = make();
      const key = uniqueName('p');
      expect(await c.peek(key)).toEqual({ count: 0, resetMs: 0 });
      await c.hit(key, 60_000);
      await c.hit(key, 60_000);
      const seen = await c.peek(key);
      expect(seen.count).toBe(2);
      expect(seen.resetMs).toBeGreaterThan(0);
      expect(seen.resetMs).toBeLessThanOrEqual(60_000);
      expect((await c.peek(key)).count).toBe(2);
      expect((await c.hit(key, 60_000)).count).toBe(3);
    });

    it('shares one budget between counters of the same store', async () => {
      const key = uniqueName('s');
      const [a, b] = [make(), makeSecond()];
      await a.hit(key, 60_000);
      await b.hit(key, 60_000);
      expect((await a.hit(key, 60_000)).count).toBe(3);
    });
  });
}

const shared = new MemoryRateCounter();
contract('memory', () => shared, () => shared);
contract('redis (two connections, as two instances)', redisCounter, redisCounter);
contract('batched redis (two connections, as two instances)', () => batchedCounter(), () => batchedCounter());

describe('batched redis counter: per-request hits counted locally, added in Redis per flush', () => {
  it('counts locally once the window is known and shares the count at each flush', async () => {
    const key = uniqueName('b');
    const [a, b] = [batchedCounter(), batchedCounter()];
    // The window is not known yet: the caller must go to Redis.
    expect(a.hitSync(key, 60_000)).toBeUndefined();
    expect((await a.hit(key, 60_000)).count).toBe(1);
    const local = [2, 3, 4, 5, 6].map(() => a.hitSync(key, 60_000)!.count);
    expect(local).toEqual([2, 3, 4, 5, 6]);
    // Nothing added in Redis yet: another instance sees only the first hit.
    const other = redisCounter();
    expect((await other.peek(key)).count).toBe(1);
    await a.flush();
    expect((await other.peek(key)).count).toBe(6);
    // The other instance's hit reaches this one's count at the next flush (the documented lag), not before.
    expect((await b.hit(key, 60_000)).count).toBe(7);
    expect(a.hitSync(key, 60_000)!.count).toBe(7);
    await a.flush();
    expect(a.hitSync(key, 60_000)!.count).toBe(9);
    await a.flush();
    expect((await other.peek(key)).count).toBe(9);
  });

  it('flushes by itself after flushMs', async () => {
    const key = uniqueName('t');
    const a = batchedCounter(20);
    await a.hit(key, 60_000);
    a.hitSync(key, 60_000);
    a.hitSync(key, 60_000);
    const other = redisCounter();
    await eventually(async () => (await other.peek(key)).count === 3, { timeout: 10_000 });
  });

  it('asks Redis again when the window has ended, and drops hits of an ended window', async () => {
    const key = uniqueName('e');
    const a = batchedCounter();
    await a.hit(key, 200);
    expect(a.hitSync(key, 200)!.count).toBe(2);
    await new Promise((r) => setTimeout(r, 350));
    expect(a.hitSync(key, 200)).toBeUndefined();
    await a.flush();
    // The window's key expired in Redis and the stale local hit did not start a new one.
    expect(await redisCounter().peek(key)).toEqual({ count: 0, resetMs: 0 });
    expect((await a.hit(key, 200)).count).toBe(1);
  });
});
