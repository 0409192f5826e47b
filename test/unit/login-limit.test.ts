/** LoginLimiter: refuses an address past its failures, and reports each refusal to its hook. */
import { describe, expect, it } from 'vitest';
import { LoginLimiter } from '../../src/kernel/http/login-limit.ts';
import { MemoryRateCounter } from '../../src/kernel/http/rate-limit.ts';

describe('LoginLimiter', () => {
  it('lets an address fail maxFailures times, then refuses it and tells the hook each time; other addresses are free', async () => {
    const refused: [string, number][] = [];
    const limiter = new LoginLimiter(new MemoryRateCounter(), { maxFailures: 2, windowMs: 60_000 }, (address, wait) => refused.push([address, wait]));
    expect(await limiter.blockedFor('10.0.0.1')).toBe(0);
    expect(await limiter.failed('10.0.0.1')).toBe(0);
    expect(await limiter.failed('10.0.0.1')).toBe(0);
    expect(refused).toEqual([]);
    const wait = await limiter.blockedFor('10.0.0.1');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(refused).toEqual([['10.0.0.1', wait]]);
    expect(await limiter.blockedFor('10.0.0.2')).toBe(0);
    expect(refused).toHaveLength(1);
  });
});
