/**
 * Group membership over the KV port: each member heartbeats its key in the group's bucket; every member keeps the
 * live list from a watch of that bucket. A member that leaves deletes its key (others drop it at once); one that
 * stops heartbeating (crash, partition) is dropped after its timeout. Expiry on the KV is silent (NATS 2.9), so the
 * timeout is kept here, on the monotonic clock, from the last heartbeat each member was seen to write.
 */
import { Invalid } from '../errors.ts';
import { validateKey } from '../kv/keys.ts';
import type { Kv, KvChange, KvStore } from '../kv/port.ts';
import type { Logger } from '../log.ts';
import { realClock, type Clock, type Timer } from '../clock/clock.ts';

/** A live member as the others see it. */
export interface Member {
  id: string;
  /** When it joined (its own wall clock, ISO 8601). */
  joinedAt: string;
  /** Whatever it announced (host, version, capabilities); small JSON. */
  meta: Record<string, unknown>;
}

/** Options of one member. */
export interface MembershipOptions {
  kv: KvStore;
  /** Members of one group see each other; the bucket is `members-<group>`. */
  group: string;
  /** This member's id: a KV key token, unique per process. */
  id: string;
  /** Heartbeat period. Default 1 s. */
  heartbeatMs?: number;
  /** A member not heard from for this long is dropped. Default 5 × heartbeatMs. */
  timeoutMs?: number;
  meta?: Record<string, unknown>;
  log: Logger;
  /** Heartbeats, expiry and ages run on it; the real clock by default. */
  clock?: Clock;
}

/** The value each member keeps under its key. */
interface Heartbeat {
  id: string;
  joinedAt: string;
  /** Wall-clock time of this beat: only used to age entries read by a list, never to compare two members' clocks. */
  at: number;
  timeoutMs: number;
  meta: Record<string, unknown>;
}

/** A member as this process tracks it. */
interface Seen {
  beat: Heartbeat;
  revision: number;
  /** Monotonic time the beat at `revision` was (or is assumed to have been) written. */
  seenAt: number;
}

/** One process's membership in one group. */
export class Membership {
  private readonly heartbeatMs: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly joinedAt: string;
  private readonly seen = new Map<string, Seen>();
  private readonly listeners = new Set<(ids: string[]) => void>();
  /** The ids and announcements listeners were last told about. */
  private last = '';
  private bucket?: Kv;
  private watcher?: { stop(): Promise<void> };
  private timers: Timer[] = [];
  private running = false;
  private beatFailing = false;
  private meta: Record<string, unknown>;

  constructor(private readonly o: MembershipOptions) {
    validateKey(o.id);
    this.clock = o.clock ?? realClock;
    this.joinedAt = this.clock.date().toISOString();
    this.meta = o.meta ?? {};
    this.heartbeatMs = o.heartbeatMs ?? 1_000;
    this.timeoutMs = o.timeoutMs ?? 5 * this.heartbeatMs;
    if (this.timeoutMs < 2 * this.heartbeatMs) throw new Invalid('membership timeout must be at least twice the heartbeat period', [{ path: 'timeoutMs', message: `≥ ${2 * this.heartbeatMs}` }]);
  }

  /** This member's id. */
  get self(): string {
    return this.o.id;
  }

  /** True between start() and stop(). */
  get joined(): boolean {
    return this.running;
  }

  /** Joins: watches the group, writes the first heartbeat, reads who is there. Resolves with the first live list. */
  async start(): Promise<string[]> {
    if (this.running) return this.ids();
    // Entries outlive a silent member by at most its timeout, so a list never shows long-dead members.
    const kv = await this.o.kv.bucket(`members-${this.o.group}`, { ttlMs: this.timeoutMs });
    this.bucket = kv;
    // Watch first: a beat written while we list is then seen by one or the other, never by neither.
    this.watcher = await kv.watch<Heartbeat>('', (c) => this.onKvChange(c));
    try {
      await this.beat();
      await this.relist();
    } catch (err) {
      await this.watcher.stop().catch(() => {});
      this.seen.clear();
      throw err;
    }
    this.running = true;
    this.timers.push(this.clock.setInterval(() => void this.beat(), this.heartbeatMs));
    this.timers.push(this.clock.setInterval(() => this.expire(), Math.max(50, Math.min(this.heartbeatMs, this.timeoutMs / 4))));
    // A safety net for changes the watch missed (a reconnect): the bucket is read again once per timeout.
    this.timers.push(this.clock.setInterval(() => void this.relist().catch(() => {}), this.timeoutMs));
    this.publish();
    return this.ids();
  }

  /** Live member ids, sorted; includes this member once joined. */
  ids(): string[] {
    const ids = [...this.seen.keys()];
    if (this.running && !this.seen.has(this.o.id)) ids.push(this.o.id);
    return ids.sort();
  }

  /** Live members, sorted by id. */
  members(): Member[] {
    return this.ids().map((id) => {
      const b = this.seen.get(id)?.beat;
      return b ? { id, joinedAt: b.joinedAt, meta: b.meta } : { id, joinedAt: this.joinedAt, meta: this.meta };
    });
  }

  /** Replaces what this member announces; the others see it with its next heartbeat, written now if joined. */
  async announce(meta: Record<string, unknown>): Promise<void> {
    this.meta = meta;
    this.notify();
    if (this.running) await this.beat();
  }

  /** Calls `fn` with the live ids whenever a member joins, leaves or announces something new; returns the unsubscribe function. */
  onChange(fn: (ids: string[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Stops heartbeating. With `leave` (the default) the key is deleted so the others drop this member at once;
   * without it, they drop it after the timeout, as after a crash.
   */
  async stop(opts: { leave?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers.splice(0)) t.cancel();
    await this.watcher?.stop();
    if (opts.leave ?? true) await this.bucket?.delete(this.o.id).catch((err) => this.o.log.warn({ err, group: this.o.group }, 'could not leave the membership; others drop this member after its timeout'));
    this.seen.clear();
    this.publish();
  }

  private async beat(): Promise<void> {
    const beat: Heartbeat = { id: this.o.id, joinedAt: this.joinedAt, at: this.clock.now(), timeoutMs: this.timeoutMs, meta: this.meta };
    try {
      await this.bucket!.put(this.o.id, beat);
      if (this.beatFailing) this.o.log.info({ group: this.o.group }, 'membership heartbeat written again');
      this.beatFailing = false;
    } catch (err) {
      // Logged once per outage: the others will drop this member, and its roles' leases lapse the same way.
      if (!this.beatFailing) this.o.log.warn({ err, group: this.o.group }, 'membership heartbeat failed');
      this.beatFailing = true;
      if (!this.running) throw err;
    }
  }

  private onKvChange(c: KvChange<Heartbeat>): void {
    if (c.key === this.o.id) return;
    if (c.op === 'delete') {
      if (this.seen.delete(c.key)) this.notify();
      return;
    }
    const known = this.seen.get(c.key);
    if (known && known.revision >= c.revision) return;
    this.seen.set(c.key, { beat: c.value!, revision: c.revision, seenAt: this.clock.monotonic() });
    if (!known || JSON.stringify(known.beat.meta) !== JSON.stringify(c.value!.meta)) this.notify();
  }

  /** Reads the bucket: refreshes members with newer beats and drops those gone from it (deleted or expired). */
  private async relist(): Promise<void> {
    const startedAt = this.clock.monotonic();
    const entries = await this.bucket!.list<Heartbeat>();
    const present = new Set<string>();
    for (const e of entries) {
      if (e.key === this.o.id) continue;
      present.add(e.key);
      const known = this.seen.get(e.key);
      if (known && known.revision >= e.revision) continue;
      // The beat's age by its writer's clock, bounded so that a skewed clock can neither keep it nor drop it early.
      const age = Math.min(Math.max(0, this.clock.now() - e.value.at), e.value.timeoutMs);
      this.seen.set(e.key, { beat: e.value, revision: e.revision, seenAt: this.clock.monotonic() - age });
    }
    // A member the watch added after the list was read is not in it, but is live.
    for (const [id, s] of this.seen) if (!present.has(id) && s.seenAt < startedAt) this.seen.delete(id);
    this.expire();
    this.notify();
  }

  private expire(): void {
    const now = this.clock.monotonic();
    let changed = false;
    for (const [id, s] of this.seen) {
      if (now - s.seenAt > s.beat.timeoutMs) {
        this.seen.delete(id);
        changed = true;
      }
    }
    if (changed) this.notify();
  }

  /** Listeners hear of changes only while joined (start and stop tell them the whole list once). */
  private notify(): void {
    if (this.running) this.publish();
  }

  /** Tells listeners when the members or their announcements differ from what they were last told. */
  private publish(): void {
    const ids = this.ids();
    const signature = JSON.stringify(this.members().map((m) => [m.id, m.meta]));
    if (signature === this.last) return;
    this.last = signature;
    for (const fn of this.listeners) {
      try {
        fn(ids);
      } catch (err) {
        this.o.log.warn({ err, group: this.o.group }, 'membership listener failed');
      }
    }
  }
}
