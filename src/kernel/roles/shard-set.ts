/**
 * A sharded role set on one instance: one runner per shard, acquiring only the shards assigned to this instance (or
 * left unheld past the grace), handing a shard over when its assignee claims it.
 */
import type { Leases } from '../kv/port.ts';
import type { Logger } from '../log.ts';
import type { Timer } from '../clock/clock.ts';
import { assignRoles } from './assignment.ts';
import type { RoleClaims } from './claims.ts';
import { RoleRunner, type RunnerDeps } from './role-runner.ts';
import type { RoleHandle, RoleWork } from './types.ts';

/** What the set needs from its Roles instance. */
export interface ShardSetContext {
  deps: RunnerDeps;
  leases: Leases;
  claims: RoleClaims;
  log: Logger;
  /** Live member ids, or undefined until this instance has joined. */
  members(): string[] | undefined;
}

/** One role set's runners and its view of who should hold what. */
export class ShardSet implements RoleHandle {
  private assignment = new Map<string, string>();
  private readonly runners = new Map<string, RoleRunner>();
  /** Monotonic time each unassigned shard was first seen unheld (cleared when seen held). */
  private readonly freeSince = new Map<string, number>();
  /** Shards unheld past the grace, which this instance may take although not assigned them. */
  private readonly graced = new Set<string>();
  private readonly lastClaim = new Map<string, number>();
  private readonly timer: Timer;
  private checking = false;
  private stopped = false;

  constructor(
    private readonly ctx: ShardSetContext,
    readonly set: string,
    readonly names: readonly string[],
    private readonly ttlMs: number,
    private readonly graceMs: number,
    work: RoleWork,
  ) {
    const self = ctx.deps.owner;
    names.forEach((name, shard) => {
      const policy = {
        wants: () => this.assignee(name) === self || this.graced.has(name),
        mustRelease: () => {
          const a = this.assignee(name);
          return a !== undefined && a !== self && ctx.claims.claimant(name) === a;
        },
        refused: () => {
          // Someone else took it (the grace ran out for several instances at once): only its assignee keeps trying.
          this.graced.delete(name);
          this.claimIfAssigned(name);
        },
        acquired: () => {
          this.graced.delete(name);
          this.freeSince.delete(name);
        },
        handedOver: () => void ctx.claims.withdraw(name),
      };
      this.runners.set(name, new RoleRunner(ctx.deps, name, set, shard, ttlMs, work, policy).start());
    });
    this.rebalance();
    this.timer = ctx.deps.clock.setInterval(() => void this.check(), Math.max(100, Math.floor(graceMs / 2)));
  }

  /** The member this set's view assigns `name` to. */
  assignee(name: string): string | undefined {
    return this.assignment.get(name);
  }

  /** Recomputes the assignment from the current members and re-asks every runner. */
  rebalance(): void {
    const members = this.ctx.members();
    this.assignment = members ? assignRoles(this.set, this.names, members) : new Map();
    for (const r of this.runners.values()) r.poke();
  }

  /** A claim on `name` was seen: its holder here may have to hand it over. */
  claimed(name: string): void {
    this.runners.get(name)?.poke();
  }

  /** Shards this instance holds now. */
  held(): string[] {
    return [...this.runners.values()].filter((r) => r.holding).map((r) => r.name);
  }

  /** Stops every shard's work and releases their leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer.cancel();
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }

  /** Claims at most once per half TTL per shard: the holder sees the first, the rest only refresh it. */
  private claimIfAssigned(name: string): void {
    if (this.assignee(name) !== this.ctx.deps.owner) return;
    const now = this.ctx.deps.clock.monotonic();
    if (now - (this.lastClaim.get(name) ?? -Infinity) < this.ttlMs / 2) return;
    this.lastClaim.set(name, now);
    void this.ctx.claims.claim(name, this.ctx.deps.owner);
  }

  /**
   * The periodic look at shards this instance neither holds nor is assigned: one unheld for the whole grace is
   * taken. Shards held here but assigned elsewhere re-read their claim, in case the watch missed it.
   */
  private async check(): Promise<void> {
    if (this.checking || this.stopped || !this.ctx.members()) return;
    this.checking = true;
    const self = this.ctx.deps.owner;
    try {
      for (const r of this.runners.values()) {
        if (this.stopped) return;
        const assignee = this.assignee(r.name);
        if (r.holding) {
          if (assignee !== self) {
            await this.ctx.claims.refresh(r.name);
            r.poke();
          }
          continue;
        }
        if (assignee === self || this.graced.has(r.name)) continue;
        const holder = await this.ctx.leases.holder(r.name, this.ttlMs).catch(() => null);
        if (holder === null) continue;
        if (holder) {
          this.freeSince.delete(r.name);
          continue;
        }
        const since = this.freeSince.get(r.name);
        if (since === undefined) this.freeSince.set(r.name, this.ctx.deps.clock.monotonic());
        else if (this.ctx.deps.clock.monotonic() - since >= this.graceMs) {
          this.ctx.log.warn({ role: r.name, assignee, graceMs: this.graceMs }, 'role unheld past its grace; taking it although it is assigned elsewhere');
          this.graced.add(r.name);
          r.poke();
        }
      }
    } finally {
      this.checking = false;
    }
  }
}
