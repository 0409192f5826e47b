/** Leases with fencing tokens, built only on the Kv port, so the same code runs over memory and NATS JetStream KV. */
import { Conflict, Invalid } from '../errors.ts';
import { realClock, type Clock, type Timer } from '../clock/clock.ts';
import type { AcquireOptions, Kv, KvStore, LeaseHolder, LeaseInfo, Leases } from './port.ts';

/** Why a holder's `lost` signal fired; found in `(lost.reason as Conflict).details.reason`. */
export type LostReason = 'expired' | 'taken' | 'released';

interface LeaseValue {
  owner: string;
  acquiredAt: string;
  /** Written from the first renewal on; until then the entry's revision is the token. */
  token?: number;
}

/** Lowest TTL accepted: below this, renewal round trips eat the whole lease. */
const MIN_TTL_MS = 300;

/**
 * How long before the earliest possible server-side expiry `lost` fires: 10% of the TTL, at least 50 ms.
 * The deadline itself is already safe (see armExpiry); the margin covers our expiry timer firing late on a
 * busy event loop and gives abort listeners time to stop work before anyone else can acquire. 10% keeps
 * two renewal attempts (every ttl/3) inside the window; 50 ms is a few event-loop stalls for short TTLs.
 */
export function safetyMarginMs(ttlMs: number): number {
  return Math.max(Math.round(ttlMs * 0.1), 50);
}

/** A lease this process holds. */
class KvLeaseHolder implements LeaseHolder {
  private readonly controller = new AbortController();
  private revision: number;
  private lastSentAt: number;
  private expiryTimer?: Timer;
  private renewTimer?: Timer;
  private renewing?: Promise<void>;

  constructor(
    private readonly kv: Kv,
    readonly name: string,
    readonly owner: string,
    readonly token: number,
    private readonly ttlMs: number,
    sentAt: number,
    private readonly value: LeaseValue,
    autoRenew: boolean,
    private readonly clock: Clock,
  ) {
    this.revision = token;
    this.lastSentAt = sentAt;
    this.armExpiry();
    if (autoRenew) {
      this.renewTimer = clock.setInterval(() => {
        this.renew().catch(() => {
          // A failed renewal is not fatal by itself: the expiry timer decides when the lease is gone.
        });
      }, Math.max(Math.floor(ttlMs / 3), 50));
    }
  }

  get lost(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * The server's TTL runs from when it *received* our last write, which is after `lastSentAt` on our
   * monotonic clock; so the lease is certainly ours until lastSentAt + ttl. We give it up a margin before.
   */
  private armExpiry(): void {
    this.expiryTimer?.cancel();
    const deadline = this.lastSentAt + this.ttlMs - safetyMarginMs(this.ttlMs);
    this.expiryTimer = this.clock.setTimeout(() => this.lose('expired', 'no renewal succeeded in time'), Math.max(0, deadline - this.clock.monotonic()));
  }

  /** Aborts `lost` once; the reason is a Conflict whose details.reason says why ('expired', 'taken', 'released'). */
  private lose(reason: LostReason, why: string): void {
    this.expiryTimer?.cancel();
    this.renewTimer?.cancel();
    if (!this.controller.signal.aborted) this.controller.abort(new Conflict(`lease '${this.name}' ${reason}: ${why}`, { lease: this.name, reason }));
  }

  /** Extends the lease by writing at the last known revision; Conflict means someone else has it now. */
  async renew(): Promise<void> {
    if (this.lost.aborted) throw new Conflict(`lease '${this.name}' was lost`, { lease: this.name });
    // Renewals must not overlap: the second would carry a stale revision and look like a takeover.
    if (this.renewing) return this.renewing;
    this.renewing = this.doRenew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async doRenew(): Promise<void> {
    if (this.lost.aborted) throw new Conflict(`lease '${this.name}' was lost`, { lease: this.name });
    // Taken before sending: the server starts the TTL when it stores the write, which is later than this.
    const sentAt = this.clock.monotonic();
    try {
      // A compare-and-set at our revision succeeds only if the key never expired or changed hands meanwhile.
      this.revision = await this.kv.update(this.name, { ...this.value, token: this.token }, this.revision);
    } catch (err) {
      if (err instanceof Conflict) this.lose('taken', 'another owner wrote the key, or it expired');
      // A renewal that failed for another reason (timeout, outage) after the deadline means the lease is gone.
      if (this.lost.aborted && !(err instanceof Conflict)) throw new Conflict(`lease '${this.name}' was lost: ${(err as Error).message}`, { lease: this.name });
      throw err;
    }
    if (this.lost.aborted) {
      // The deadline passed while the write was in flight: `lost` cannot be taken back, so free the key now
      // rather than leave it blocking others for another TTL.
      await this.kv.delete(this.name, { revision: this.revision }).catch(() => {});
      throw new Conflict(`lease '${this.name}' was lost while renewing`, { lease: this.name });
    }
    this.lastSentAt = sentAt;
    this.armExpiry();
  }

  /** Deletes the key at our revision so the next acquirer need not wait for the TTL. */
  async release(): Promise<void> {
    if (this.lost.aborted) return;
    this.renewTimer?.cancel();
    await this.renewing?.catch(() => {});
    // Abort before deleting: our own work must stop before anyone else can acquire the name.
    this.lose('released', 'given up by its holder');
    await this.kv.delete(this.name, { revision: this.revision }).catch((err) => {
      if (!(err instanceof Conflict)) throw err;
    });
  }
}

/**
 * Leases over a KvStore. TTL is per bucket (NATS 2.9), so each TTL value gets its own bucket.
 * The fencing token is the revision of the winning create. Revisions are the bucket's stream sequence,
 * which only grows: a release writes a delete marker at a new sequence, and an expiry removes the message
 * but leaves the stream's last sequence where it was, so the next create always gets a larger number.
 */
export class KvLeases implements Leases {
  private readonly buckets = new Map<number, Promise<Kv>>();

  constructor(private readonly store: KvStore, private readonly owner: string, private readonly opts: { bucketPrefix?: string; clock?: Clock } = {}) {}

  private get clock(): Clock {
    return this.opts.clock ?? realClock;
  }

  private bucket(ttlMs: number): Promise<Kv> {
    if (!Number.isInteger(ttlMs) || ttlMs < MIN_TTL_MS) throw new Invalid(`lease ttl must be an integer ≥ ${MIN_TTL_MS} ms`, [{ path: 'ttlMs', message: `integer ≥ ${MIN_TTL_MS}` }]);
    let b = this.buckets.get(ttlMs);
    if (!b) {
      b = this.store.bucket(`${this.opts.bucketPrefix ?? 'leases'}-${ttlMs}`, { ttlMs });
      b.catch(() => this.buckets.delete(ttlMs));
      this.buckets.set(ttlMs, b);
    }
    return b;
  }

  /** Tries once; returns undefined when another owner holds the lease. */
  async acquire(name: string, opts: AcquireOptions): Promise<LeaseHolder | undefined> {
    const kv = await this.bucket(opts.ttlMs);
    const value: LeaseValue = { owner: this.owner, acquiredAt: this.clock.date().toISOString() };
    const sentAt = this.clock.monotonic();
    let revision: number;
    try {
      revision = await kv.create(name, value);
    } catch (err) {
      if (err instanceof Conflict) return undefined;
      throw err;
    }
    return new KvLeaseHolder(kv, name, this.owner, revision, opts.ttlMs, sentAt, value, opts.autoRenew ?? true, this.clock);
  }

  /** Reads the current holder of a lease with the given TTL. */
  async holder(name: string, ttlMs: number): Promise<LeaseInfo | undefined> {
    const kv = await this.bucket(ttlMs);
    const e = await kv.get<LeaseValue>(name);
    if (!e) return undefined;
    return { name, owner: e.value.owner, token: e.value.token ?? e.revision, acquiredAt: e.value.acquiredAt };
  }
}
