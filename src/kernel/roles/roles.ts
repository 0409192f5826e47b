/** The kernel's Roles: plain roles and sharded role sets of one instance, over the Lease and KV ports. */
import type { Registry } from 'prom-client';
import { Conflict, Invalid } from '../errors.ts';
import type { KvStore, Leases } from '../kv/port.ts';
import type { Logger } from '../log.ts';
import { realClock, type Clock } from '../clock/clock.ts';
import { RoleClaims } from './claims.ts';
import { Membership, type Member } from './membership.ts';
import { createRoleMetrics, type RoleMetrics } from './role-metrics.ts';
import { RoleRunner, type RunnerDeps } from './role-runner.ts';
import { ShardSet } from './shard-set.ts';
import type { RoleHandle, RoleOptions, Roles, RoleWork, ShardOptions } from './types.ts';

/** What createRoles needs. */
export interface RolesOptions {
  leases: Leases;
  kv: KvStore;
  /** This instance's id: lease owner and member id (the same the Leases were made with). */
  owner: string;
  registry: Registry;
  log: Logger;
  /** Membership heartbeat period. Default 1 s. */
  heartbeatMs?: number;
  /** A member silent this long is dropped and its shards reassigned. Default 5 s. */
  memberTimeoutMs?: number;
  /** Announced to the other members (e.g. host, version). */
  meta?: Record<string, unknown>;
  /** Leases' timers are the Leases' own; membership, claims and retries run on this. Default: the real clock. */
  clock?: Clock;
}

/** Builds the Roles of one instance; it joins the membership when its first role set is held. */
export function createRoles(o: RolesOptions): Roles {
  return new KernelRoles(o);
}

class KernelRoles implements Roles {
  private readonly metrics: RoleMetrics;
  private readonly deps: RunnerDeps;
  private readonly membership: Membership;
  private readonly claims: RoleClaims;
  private readonly memberTimeoutMs: number;
  private readonly handles = new Set<RoleHandle & { names: readonly string[] }>();
  private readonly sets = new Set<ShardSet>();
  /** Role name -> its set, for routing claims. */
  private readonly byName = new Map<string, ShardSet | RoleRunner>();
  private joining?: Promise<void>;
  private joined = false;
  private readonly closing = new AbortController();

  constructor(private readonly o: RolesOptions) {
    this.metrics = createRoleMetrics(o.registry);
    const clock = o.clock ?? realClock;
    this.deps = { leases: o.leases, owner: o.owner, log: o.log, metrics: this.metrics, clock };
    const heartbeatMs = o.heartbeatMs ?? 1_000;
    this.memberTimeoutMs = o.memberTimeoutMs ?? 5_000;
    this.membership = new Membership({ kv: o.kv, group: 'roles', id: o.owner, heartbeatMs, timeoutMs: this.memberTimeoutMs, meta: o.meta, log: o.log, clock });
    this.claims = new RoleClaims(o.kv, o.log, (role) => {
      const s = this.byName.get(role);
      if (s instanceof ShardSet) s.claimed(role);
    }, clock);
    this.membership.onChange((ids) => {
      this.metrics.members.set(ids.length);
      for (const s of this.sets) s.rebalance();
    });
  }

  get self(): string {
    return this.o.owner;
  }

  holdRole(name: string, opts: RoleOptions, work: RoleWork): RoleHandle {
    this.reserve([name]);
    const runner = new RoleRunner(this.deps, name, name, 0, opts.ttlMs, work, { wants: () => true, mustRelease: () => false }).start();
    this.byName.set(name, runner);
    const handle = {
      names: [name],
      held: () => (runner.holding ? [name] : []),
      stop: async () => {
        await runner.stop();
        this.forget(handle);
      },
    };
    this.handles.add(handle);
    return handle;
  }

  holdShards(set: string, names: readonly string[], opts: ShardOptions, work: RoleWork): RoleHandle {
    if (names.length === 0) throw new Invalid(`role set '${set}' has no roles`, [{ path: 'names', message: 'at least one role name' }]);
    this.reserve(names);
    const graceMs = opts.graceMs ?? 2 * Math.max(opts.ttlMs, this.memberTimeoutMs);
    const shards = new ShardSet({ deps: this.deps, leases: this.o.leases, claims: this.claims, log: this.o.log, members: () => (this.joined ? this.servers(set) : undefined) }, set, [...names], opts.ttlMs, graceMs, work);
    for (const n of names) this.byName.set(n, shards);
    this.sets.add(shards);
    const handle = {
      names,
      held: () => shards.held(),
      stop: async () => {
        this.sets.delete(shards);
        await shards.stop();
        this.forget(handle);
        void this.announce();
      },
    };
    this.handles.add(handle);
    void this.announce();
    void this.join();
    return handle;
  }

  members(): Member[] {
    return this.joined ? this.membership.members() : [];
  }

  held(): string[] {
    return [...this.handles].flatMap((h) => h.held()).sort();
  }

  async close(): Promise<void> {
    this.closing.abort();
    // Release first, then leave: the others reassign on the leave and find the roles already free.
    await Promise.all([...this.handles].map((h) => h.stop()));
    await this.joining;
    await this.claims.stop();
    await this.membership.stop({ leave: true });
    this.joined = false;
    this.metrics.members.set(0);
  }

  /**
   * Live members that run `set`: each member announces the sets it holds, so a set is spread only over instances that
   * serve it (an instance without the module, or still loading a definition, is not given shards it cannot take).
   */
  private servers(set: string): string[] {
    return this.membership
      .members()
      .filter((m) => !Array.isArray(m.meta.sets) || (m.meta.sets as unknown[]).includes(set))
      .map((m) => m.id);
  }

  /** Announces the sets this instance holds now (a no-op until joined beyond remembering them for the first beat). */
  private announce(): Promise<void> {
    const sets = [...this.sets].map((s) => s.set).sort();
    return this.membership.announce({ ...this.o.meta, sets }).catch((err) => this.o.log.warn({ err }, 'could not announce role sets'));
  }

  /** Refuses a name this instance already runs under another handle (two loops would fight over one lease). */
  private reserve(names: readonly string[]): void {
    if (this.closing.signal.aborted) throw new Conflict('roles are closed');
    const seen = new Set<string>();
    for (const n of names) {
      if (this.byName.has(n) || seen.has(n)) throw new Conflict(`role '${n}' is already held by this instance`, { role: n });
      seen.add(n);
    }
  }

  private forget(handle: { names: readonly string[] }): void {
    this.handles.delete(handle as RoleHandle & { names: readonly string[] });
    for (const n of handle.names) this.byName.delete(n);
  }

  /** Joins once, retrying while the KV is unreachable; sets compute assignments once joined. */
  private join(): Promise<void> {
    this.joining ??= (async () => {
      for (let attempt = 0; !this.closing.signal.aborted; attempt++) {
        try {
          await this.claims.start();
          await this.membership.start();
          this.joined = true;
          this.metrics.members.set(this.membership.ids().length);
          for (const s of this.sets) s.rebalance();
          return;
        } catch (err) {
          await this.claims.stop().catch(() => {});
          this.o.log.warn({ err }, 'cannot join the role membership; retrying');
          await this.deps.clock.sleep(Math.min(5_000, 250 * 2 ** attempt), this.closing.signal);
        }
      }
    })();
    return this.joining;
  }
}
