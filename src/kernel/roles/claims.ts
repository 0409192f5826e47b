/**
 * Hand-over requests: the assignee of a role that finds it held by another instance writes a claim (role -> its id);
 * the holder, watching the claims, hands the role over if the claimant is the assignee in its own view too. A holder
 * never gives a role away unasked, so an assignee that cannot take a role never leaves it unheld. After releasing it,
 * the holder deletes the claim, which wakes the claimant to acquire at once instead of at its next retry.
 */
import type { Kv, KvStore } from '../kv/port.ts';
import type { Logger } from '../log.ts';
import { realClock, type Clock } from '../clock/clock.ts';

/** Claims older than this are ignored (and the bucket forgets them): a claimant that still wants a role claims again. */
const CLAIM_TTL_MS = 30_000;

interface Claim {
  by: string;
}

/** The claims of one deployment as this instance sees them. */
export class RoleClaims {
  private bucket?: Kv;
  private watcher?: { stop(): Promise<void> };
  private readonly seen = new Map<string, { by: string; at: number }>();

  constructor(
    private readonly kv: KvStore,
    private readonly log: Logger,
    private readonly onClaim: (role: string) => void,
    private readonly clock: Clock = realClock,
  ) {}

  /** Opens the bucket and starts watching it. */
  async start(): Promise<void> {
    this.bucket = await this.kv.bucket('role-claims', { ttlMs: CLAIM_TTL_MS });
    this.watcher = await this.bucket.watch<Claim>('', (c) => {
      if (c.op === 'put') return this.note(c.key, c.value!.by);
      // A withdrawn claim means the holder has just released the role: its claimant can take it now.
      this.seen.delete(c.key);
      this.onClaim(c.key);
    });
  }

  /** Asks the holder of `role` to hand it over to `by`. */
  async claim(role: string, by: string): Promise<void> {
    await this.bucket?.put(role, { by } satisfies Claim).catch((err) => this.log.warn({ err, role }, 'could not write a role claim'));
  }

  /** Tells the claimant that `role` was released for it (the holder deletes the claim after its release). */
  async withdraw(role: string): Promise<void> {
    await this.bucket?.delete(role).catch(() => {});
  }

  /** Who claimed `role` lately, if anyone. */
  claimant(role: string): string | undefined {
    const c = this.seen.get(role);
    if (!c) return undefined;
    if (this.clock.monotonic() - c.at > CLAIM_TTL_MS) {
      this.seen.delete(role);
      return undefined;
    }
    return c.by;
  }

  /** Reads the claim of `role` from the store (for claims the watch may have missed). */
  async refresh(role: string): Promise<void> {
    const e = await this.bucket?.get<Claim>(role).catch(() => undefined);
    if (e && e.value.by !== this.seen.get(role)?.by) this.note(role, e.value.by);
  }

  /** Stops watching. */
  async stop(): Promise<void> {
    await this.watcher?.stop();
    this.watcher = undefined;
    this.seen.clear();
  }

  private note(role: string, by: string): void {
    this.seen.set(role, { by, at: this.clock.monotonic() });
    this.onClaim(role);
  }
}
