/** Failed console sign-ins per client address: past the limit, every attempt from that address is refused, the
 * right token too (or guessing would go on, told apart by the answer), until the window ends. */
import type { RateCounter } from './rate-limit.ts';

/** How many failures an address may have in one window (config `auth.login`). */
export interface LoginLimitConfig {
  maxFailures: number;
  windowMs: number;
}

/** The defaults of `auth.login`: ten wrong tokens per address in five minutes. */
export const DEFAULT_LOGIN_LIMIT: LoginLimitConfig = { maxFailures: 10, windowMs: 300_000 };

const keyOf = (address: string) => `login-failures:${address}`;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Counts failures on the kernel's rate counter (Redis when distributed, so the budget holds across instances). */
export class LoginLimiter {
  constructor(
    private readonly counter: RateCounter,
    private readonly limit: LoginLimitConfig = DEFAULT_LOGIN_LIMIT,
    /** Told of every refused attempt, so operators see a guessing address in the log and the metrics. */
    private readonly onRefused?: (address: string, retryAfterSeconds: number) => void,
  ) {}

  /** Seconds until `address` may try again; 0 when it may try now. Adds nothing to the count. */
  async blockedFor(address: string): Promise<number> {
    const { count, resetMs } = await this.counter.peek(keyOf(address));
    return this.refused(address, count >= this.limit.maxFailures ? seconds(resetMs) : 0);
  }

  /** Records a failed attempt; returns the seconds to wait if it went past the limit (a concurrent burst), else 0. */
  async failed(address: string): Promise<number> {
    const { count, resetMs } = await this.counter.hit(keyOf(address), this.limit.windowMs);
    return this.refused(address, count > this.limit.maxFailures ? seconds(resetMs) : 0);
  }

  private refused(address: string, wait: number): number {
    if (wait > 0) this.onRefused?.(address, wait);
    return wait;
  }
}
