/** One role's loop: try to acquire its lease when the policy wants it, run the work while held, release after it returned. */
import type { Clock } from '../clock/clock.ts';
import type { Leases, LeaseHolder } from '../kv/port.ts';
import type { LostReason } from '../kv/leases.ts';
import type { Logger } from '../log.ts';
import type { RoleMetrics } from './role-metrics.ts';
import type { HeldRole, RoleWork } from './types.ts';

/** When a runner tries, and when it gives a held role back; plain roles always try and never give back. */
export interface RunnerPolicy {
  /** Whether to try to acquire now (asked while not holding). */
  wants(): boolean;
  /** Whether to hand a held role over now (asked when poked while holding). */
  mustRelease(): boolean;
  /** The lease is held by someone else. */
  refused?(): void;
  /** The lease was acquired. */
  acquired?(): void;
  /** The role was released because mustRelease() said so. */
  handedOver?(): void;
}

/** What every runner of one Roles instance shares. */
export interface RunnerDeps {
  leases: Leases;
  owner: string;
  log: Logger;
  metrics: RoleMetrics;
  /** Retry pauses run on it. */
  clock: Clock;
}

/** Why a tenure ended, as roles_released_total counts it. */
type ReleaseReason = 'stopped' | 'handed_over' | 'work_ended' | 'work_failed';

/** The first retry after a refused acquire; doubled up to a fifth of the TTL, so a handed-over role is taken quickly. */
const FIRST_RETRY_MS = 50;

/** Runs one role until stopped. */
export class RoleRunner {
  private readonly stopping = new AbortController();
  private handover?: AbortController;
  private holder?: LeaseHolder;
  private wake?: () => void;
  private loop?: Promise<void>;

  constructor(
    private readonly deps: RunnerDeps,
    readonly name: string,
    private readonly set: string,
    private readonly shard: number,
    private readonly ttlMs: number,
    private readonly work: RoleWork,
    private readonly policy: RunnerPolicy,
  ) {}

  /** True while this runner holds the lease and its work runs. */
  get holding(): boolean {
    return this.holder !== undefined;
  }

  /** Starts the loop in the background. */
  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Re-asks the policy now: a held role is handed over if it must be, a waiting runner tries if it wants. */
  poke(): void {
    if (this.holder) {
      if (this.handover && !this.handover.signal.aborted && this.policy.mustRelease()) this.handover.abort(new Error(`role '${this.name}' handed over`));
      return;
    }
    this.wake?.();
  }

  /** Aborts the work, waits for it, releases the lease. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error(`role '${this.name}' stopped`));
    this.wake?.();
    await this.loop;
  }

  /** Waits for a poke, stop, or `ms` (forever when undefined). */
  private pause(ms?: number): Promise<void> {
    if (this.stopping.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : this.deps.clock.setTimeout(done, ms);
      function done() {
        timer?.cancel();
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async run(): Promise<void> {
    const cap = Math.max(100, Math.floor(this.ttlMs / 5));
    let refusals = 0;
    let failing = false;
    while (!this.stopping.signal.aborted) {
      if (!this.policy.wants()) {
        refusals = 0;
        await this.pause();
        continue;
      }
      let lease: LeaseHolder | undefined;
      try {
        lease = await this.deps.leases.acquire(this.name, { ttlMs: this.ttlMs });
        failing = false;
      } catch (err) {
        if (!failing) this.deps.log.warn({ err, role: this.name }, 'cannot reach the lease store; retrying');
        failing = true;
        await this.pause(cap);
        continue;
      }
      if (!lease) {
        this.policy.refused?.();
        await this.pause(Math.min(cap, FIRST_RETRY_MS * 2 ** refusals++));
        continue;
      }
      refusals = 0;
      await this.tenure(lease);
    }
  }

  /** Runs the work while `lease` is held and gives the lease back afterwards (unless it was already lost). */
  private async tenure(lease: LeaseHolder): Promise<void> {
    const handover = new AbortController();
    this.handover = handover;
    this.holder = lease;
    this.policy.acquired?.();
    const m = this.deps.metrics;
    m.acquired.inc({ set: this.set });
    m.held.inc({ set: this.set });
    // Asked once now: a hand-over requested while we were acquiring must not wait for the next poke.
    if (this.policy.mustRelease()) handover.abort(new Error(`role '${this.name}' handed over`));
    const signal = AbortSignal.any([lease.lost, this.stopping.signal, handover.signal]);
    const held: HeldRole = { name: this.name, set: this.set, shard: this.shard, token: lease.token, owner: this.deps.owner };
    let reason: ReleaseReason = 'work_ended';
    try {
      await this.work(signal, held);
    } catch (err) {
      if (!signal.aborted) {
        reason = 'work_failed';
        this.deps.log.warn({ err, role: this.name }, 'role work failed');
      }
    }
    if (this.stopping.signal.aborted) reason = 'stopped';
    else if (handover.signal.aborted) reason = 'handed_over';
    this.holder = undefined;
    this.handover = undefined;
    m.held.dec({ set: this.set });
    if (lease.lost.aborted) {
      const why = ((lease.lost.reason as { details?: { reason?: LostReason } })?.details?.reason ?? 'expired') as string;
      m.lost.inc({ set: this.set, reason: why });
      this.deps.log.warn({ role: this.name, reason: why }, 'role lost');
    } else {
      // Only now: the work has returned, so the next holder cannot overlap it.
      await lease.release().catch((err) => this.deps.log.warn({ err, role: this.name }, 'role release failed; it frees itself after its TTL'));
      m.released.inc({ set: this.set, reason });
      if (reason === 'handed_over') this.policy.handedOver?.();
    }
    // Work that ended by itself or failed is not restarted in a tight loop.
    if (reason === 'work_ended' || reason === 'work_failed') await this.pause(500);
  }
}
