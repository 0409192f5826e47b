/** Per-token rate limiting with a fixed one-minute window; the counter lives in Redis when distributed so it holds across instances. */
import { principalOf } from './request-state.ts';
import type { Redis } from 'ioredis';
import type { MiddlewareHandler } from 'hono';
import { RateLimited } from '../errors.ts';
import type { AppEnv } from './app-env.ts';
import { clientAddress } from './client-address.ts';

/** Counts hits per key in the current window. */
export interface RateCounter {
  /** Increments the key's counter for the window and returns the new count and ms left in the window. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  /** The key's count in its current window without adding to it (0 and resetMs 0 when no window is open). */
  peek(key: string): Promise<{ count: number; resetMs: number }>;
}

/** In-process counter for embedded mode. */
export class MemoryRateCounter implements RateCounter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  /** Increments in the current window, starting a new window when the old one ended. */
  async hit(key: string, windowMs: number) {
    return this.hitSync(key, windowMs);
  }

  /** `hit` without the promise, for the shell's per-request path. */
  hitSync(key: string, windowMs: number) {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      w = { count: 0, endsAt: now + windowMs };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) for (const [k, v] of this.windows) if (v.endsAt <= now) this.windows.delete(k);
    }
    w.count++;
    return { count: w.count, resetMs: w.endsAt - now };
  }

  /** Reads the current window, treating an ended one as empty. */
  async peek(key: string) {
    const now = Date.now();
    const w = this.windows.get(key);
    return !w || w.endsAt <= now ? { count: 0, resetMs: 0 } : { count: w.count, resetMs: w.endsAt - now };
  }
}

/** Shared counter: INCR then PEXPIRE on the first hit, in one MULTI so a crash cannot leave a key without expiry. */
export class RedisRateCounter implements RateCounter {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** Increments the key's counter in Redis. */
  async hit(key: string, windowMs: number) {
    const k = `${this.prefix}:ratelimit:${key}`;
    const res = await this.redis.multi().incr(k).pexpire(k, windowMs, 'NX').pttl(k).exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    const ttl = Number(res?.[2]?.[1] ?? windowMs);
    return { count, resetMs: ttl > 0 ? ttl : windowMs };
  }

  /** Reads the key's counter and time to live in one round trip; an expired key is gone, so it reads as empty. */
  async peek(key: string) {
    const k = `${this.prefix}:ratelimit:${key}`;
    const res = await this.redis.multi().get(k).pttl(k).exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    const ttl = Number(res?.[1]?.[1] ?? -2);
    return count > 0 && ttl > 0 ? { count, resetMs: ttl } : { count: 0, resetMs: 0 };
  }
}

/** Middleware: 429 with Retry-After once a principal exceeds its requests per minute. */
export function rateLimit(counter: RateCounter, defaultPerMinute: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = principalOf(c);
    // Anonymous callers by their connection's address: X-Forwarded-For is whatever the client writes.
    const key = p && p.name !== 'anonymous' ? `token:${p.name}` : `ip:${clientAddress(c)}`;
    const limit = p?.rateLimitPerMinute ?? defaultPerMinute;
    const { count, resetMs } = await counter.hit(key, 60_000);
    c.header('RateLimit-Limit', String(limit));
    c.header('RateLimit-Remaining', String(Math.max(0, limit - count)));
    if (count > limit) throw new RateLimited(Math.max(1, Math.ceil(resetMs / 1000)));
    return next();
  };
}

/**
 * A counter that can answer at once, without a promise (the in-process one, and the batched Redis one once it knows
 * the key's window): the shell then skips an await per request. Undefined means "ask `hit`".
 */
interface SyncRateCounter {
  hitSync(key: string, windowMs: number): { count: number; resetMs: number } | undefined;
}

/** The hit counted synchronously when the counter can, else undefined (the caller awaits `hit`). */
export function hitNow(counter: RateCounter, key: string, windowMs: number): { count: number; resetMs: number } | undefined {
  return typeof (counter as Partial<SyncRateCounter>).hitSync === 'function' ? (counter as unknown as SyncRateCounter).hitSync(key, windowMs) : undefined;
}
