/** The rate-limit counter contract (hit and peek), against memory and Redis; Redis counters on two connections share one budget. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryRateCounter, RedisRateCounter, type RateCounter } from '../../src/kernel/http/rate-limit.ts';
import { REDIS_URL, uniqueName } from '../helpers/env.ts';

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
