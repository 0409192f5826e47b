/**
 * Mesh leases over the Kv port, by the rules of issue 12: a record is won and renewed only by compare-and-set on
 * its revision, the fencing token is the revision of the winning write, a takeover happens only after the record
 * stayed at one revision for the full lease on the taker's monotonic clock, and a write that timed out is
 * ambiguous: the record is re-read and its nonce compared before anything is decided.
 */
import { Conflict, monotonicMs, newId, type Kv } from '../../../kernel/index.ts';
import type { Timing } from '../model/timing.ts';

/** What the lease key holds. A fenced record has no holder but still blocks takers for a lease. */
export interface LeaseRecord {
  holder: string | null;
  session: string;
  /** Unique per write: proves after an ambiguous write whose write the record is. */
  nonce: string;
  token: number;
  renewedAt: string;
  fenced?: boolean;
}

/** Who this process is. */
export interface LeaseOwner {
  node: string;
  session: string;
}

/** A write or read that did not answer in time: it may or may not have happened. */
class Ambiguous extends Error {}

async function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Ambiguous(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a candidate last saw of a lease. */
export type Observation =
  | { state: 'free' }
  | { state: 'held'; record: LeaseRecord; revision: number; unchangedMs: number }
  | { state: 'unknown'; error: string };

/** A lease this process holds. */
export class HeldLease {
  /** Monotonic time the last successful write (acquire or renewal) was sent: the server stored it later. */
  lastRenewSentAt: number;
  lost = false;
  private readonly pending: string[] = [];

  constructor(
    private readonly kv: Kv,
    readonly key: string,
    private readonly owner: LeaseOwner,
    readonly token: number,
    private revision: number,
    sentAt: number,
    private readonly timing: Timing,
  ) {
    this.lastRenewSentAt = sentAt;
  }

  /** Milliseconds since the last successful renewal was sent. */
  sinceRenewMs(): number {
    return monotonicMs() - this.lastRenewSentAt;
  }

  /** One CAS renewal: 'ok', 'lost' (the record is someone else's), or 'unknown' (no answer; re-read next time). */
  async renew(): Promise<'ok' | 'lost' | 'unknown'> {
    if (this.lost) return 'lost';
    const nonce = newId();
    const sentAt = monotonicMs();
    const value: LeaseRecord = { holder: this.owner.node, session: this.owner.session, nonce, token: this.token, renewedAt: new Date().toISOString() };
    try {
      this.revision = await bounded(this.kv.update(this.key, value, this.revision), this.timing.renewMs);
      this.pending.length = 0;
      this.lastRenewSentAt = sentAt;
      return 'ok';
    } catch (err) {
      if (err instanceof Conflict) return this.reconcile();
      // Ambiguous or failed: remember the nonce; if the write landed, the next CAS conflicts and the re-read finds it.
      this.pending.push(nonce);
      if (this.pending.length > 16) this.pending.shift();
      this.pendingSentAt.set(nonce, sentAt);
      return 'unknown';
    }
  }

  private readonly pendingSentAt = new Map<string, number>();

  /** After a Conflict: the record may carry one of our own timed-out writes; only then is the lease still ours. */
  private async reconcile(): Promise<'ok' | 'lost' | 'unknown'> {
    let e;
    try {
      e = await bounded(this.kv.get<LeaseRecord>(this.key), this.timing.renewMs);
    } catch {
      return 'unknown';
    }
    if (e && e.value.session === this.owner.session && e.value.token === this.token && this.pending.includes(e.value.nonce)) {
      this.revision = e.revision;
      this.lastRenewSentAt = this.pendingSentAt.get(e.value.nonce) ?? this.lastRenewSentAt;
      this.pending.length = 0;
      this.pendingSentAt.clear();
      return 'ok';
    }
    this.lost = true;
    return 'lost';
  }

  /** Deletes the record at our revision so the next candidate can create it at once. Call only after the workload stopped. */
  async release(): Promise<void> {
    if (this.lost) return;
    this.lost = true;
    await bounded(this.kv.delete(this.key, { revision: this.revision }), this.timing.renewMs).catch(() => {});
  }
}

/** A candidate's view of one lease key: tracks how long the record has stayed at one revision. */
export class LeaseClaim {
  private seenRevision = 0;
  private seenAt = 0;
  private last: { record: LeaseRecord; revision: number } | undefined;

  constructor(private readonly kv: Kv, readonly key: string, private readonly owner: LeaseOwner, private readonly timing: Timing) {}

  /** Reads the record; the unchanged time runs on this process's monotonic clock from when it first saw a revision. */
  async observe(): Promise<Observation> {
    let e;
    try {
      e = await bounded(this.kv.get<LeaseRecord>(this.key), this.timing.renewMs);
    } catch (err) {
      // Revisions never repeat, so an outage does not reset the clock: the same revision seen after it is the same write.
      return { state: 'unknown', error: (err as Error).message };
    }
    if (!e) {
      this.last = undefined;
      this.seenRevision = 0;
      return { state: 'free' };
    }
    if (e.revision !== this.seenRevision) {
      this.seenRevision = e.revision;
      this.seenAt = monotonicMs();
    }
    this.last = { record: e.value, revision: e.revision };
    return { state: 'held', record: e.value, revision: e.revision, unchangedMs: monotonicMs() - this.seenAt };
  }

  /**
   * Tries to win the lease after `observe`: by create when it was free, by CAS at the observed revision when that
   * revision has been unchanged for the whole lease. Returns undefined when it may not or did not win.
   */
  async acquire(obs: Observation): Promise<HeldLease | undefined> {
    if (obs.state === 'unknown') return undefined;
    if (obs.state === 'held' && obs.unchangedMs < this.timing.leaseMs) return undefined;
    const nonce = newId();
    const value: LeaseRecord = { holder: this.owner.node, session: this.owner.session, nonce, token: 0, renewedAt: new Date().toISOString() };
    const sentAt = monotonicMs();
    try {
      const revision = await bounded(obs.state === 'free' ? this.kv.create(this.key, value) : this.kv.update(this.key, value, obs.revision), this.timing.renewMs);
      return this.won(revision, sentAt);
    } catch (err) {
      if (err instanceof Conflict) return undefined;
      // Ambiguous: the write may have landed. Re-read; our nonce in the record means we won with that revision.
      try {
        const e = await bounded(this.kv.get<LeaseRecord>(this.key), this.timing.renewMs);
        if (e && e.value.nonce === nonce) return this.won(e.revision, sentAt);
      } catch {
        // Still unknown: not ours as far as we can prove; if it was ours, it lapses unrenewed and is taken over.
      }
      return undefined;
    }
  }

  private won(revision: number, sentAt: number): HeldLease {
    this.seenRevision = revision;
    this.seenAt = monotonicMs();
    return new HeldLease(this.kv, this.key, this.owner, revision, revision, sentAt, this.timing);
  }

  /**
   * A revision of the record as a watch delivered it. Delivery comes after the server stored the write, so starting
   * the unchanged clock here is as safe as at a read, and earlier than the next poll (up to a poll period, 250 ms at
   * defaults, came off every takeover).
   */
  sawRevision(revision: number): void {
    if (revision > this.seenRevision) {
      this.seenRevision = revision;
      this.seenAt = monotonicMs();
    }
  }

  /** The record as last observed. */
  lastSeen(): { record: LeaseRecord; revision: number } | undefined {
    return this.last;
  }
}

/**
 * Fences a lease from outside (an operator's `fence`): a CAS write with no holder. The holder's next renewal
 * conflicts and it stops; takers still wait a full lease on this new revision, so they never overlap a holder
 * that cannot hear it. Returns the new revision: every later token is larger.
 */
export async function fenceLease(kv: Kv, key: string, by: string): Promise<number | undefined> {
  for (let i = 0; i < 5; i++) {
    const e = await kv.get<LeaseRecord>(key);
    if (!e) return undefined;
    const value: LeaseRecord = { holder: null, session: by, nonce: newId(), token: 0, renewedAt: new Date().toISOString(), fenced: true };
    try {
      return await kv.update(key, value, e.revision);
    } catch (err) {
      if (!(err instanceof Conflict)) throw err;
    }
  }
  throw new Conflict(`lease '${key}' kept changing while fencing it`, { lease: key });
}
