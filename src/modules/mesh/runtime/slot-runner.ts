/**
 * One slot (replica i of a workload) on one agent: takes the slot's lease when this node is the first live
 * candidate and the record is free or unchanged for a lease, runs the replica under the won token, renews, and
 * enforces the consistency rule: under `absolute-consistency` the replica is dead before last renew + renew
 * deadline; under `split-brain-allowed` it keeps running until a higher token is seen.
 */
import { monotonicMs, sleep } from '../../../kernel/index.ts';
import type { Timing } from '../model/timing.ts';
import type { WorkloadRecord } from '../model/workload.ts';
import { slotLeaseKey, slotStatusKey, type MeshBuckets, type SlotStatus } from '../store/buckets.ts';
import { LeaseClaim, type HeldLease, type LeaseOwner } from './lease.ts';
import { startReplica, type Replica } from './replica.ts';
import type { WatchdogClient } from './watchdog/client.ts';

/** What the slot runner asks of its agent. */
export interface SlotHost {
  owner: LeaseOwner;
  labels: Record<string, string>;
  timing: Timing;
  buckets: MeshBuckets;
  tokenUrl?: string;
  /** Starts process replicas and stops them by itself at their deadline if this agent cannot (paused, wedged). */
  watchdog: WatchdogClient;
  /** The workload and this slot's candidates as last assigned (undefined: the slot no longer exists). */
  intent(): { record: WorkloadRecord; candidates: string[] } | undefined;
  /** May this node take this slot now (first live candidate, capacity, one replica per node, not cordoned)? */
  mayTake(): boolean;
  /** Reports what happened (events, metrics, history). */
  report(what: SlotEvent): void;
}

/** Things a slot runner reports. */
export type SlotEvent =
  | { kind: 'acquired'; token: number; takeover: boolean }
  | { kind: 'lost'; token: number; reason: string }
  | { kind: 'renewed'; token: number; latencyMs: number }
  | { kind: 'started' | 'stopped'; token: number; pid?: number; reason?: string; at?: number }
  | { kind: 'fenced'; token: number; reason: string }
  | { kind: 'partition'; token: number; healed: boolean; ms: number };

/** Runs one slot until stopped. */
export class SlotRunner {
  private held?: HeldLease;
  private replica?: Replica;
  private stopping?: Promise<void>;
  private readonly claim: LeaseClaim;
  private readonly done = new AbortController();
  private watchdog?: ReturnType<typeof setInterval>;
  private healthTimer?: ReturnType<typeof setInterval>;
  private restarts = 0;
  private suspended = false;
  private partitionedSince?: number;
  private loop?: Promise<void>;

  constructor(readonly workload: string, readonly slot: number, private readonly host: SlotHost) {
    this.claim = new LeaseClaim(host.buckets.leases, slotLeaseKey(workload, slot), host.owner, host.timing);
  }

  /** The lease record was written (seen by the agent's watch of the leases bucket). */
  leaseWritten(revision: number): void {
    this.claim.sawRevision(revision);
  }

  /** The token this node holds the slot under, if any. */
  get token(): number | undefined {
    return this.held && !this.held.lost ? this.held.token : undefined;
  }

  /** Starts the loop. */
  start(): void {
    this.loop ??= this.run();
    this.watchdog = setInterval(() => this.enforceDeadline(), 25);
  }

  /** Stops the replica, releases the lease, ends the loop. */
  async stop(reason = 'agent stopping'): Promise<void> {
    this.done.abort();
    clearInterval(this.watchdog);
    await this.loop;
    await this.letGo(reason);
  }

  private async run(): Promise<void> {
    const pollMs = Math.max(25, Math.min(200, Math.floor(this.host.timing.renewMs / 4)));
    let lastRenewAttempt = 0;
    while (!this.done.signal.aborted) {
      let waitMs = pollMs;
      try {
        const intent = this.host.intent();
        if (this.held && !this.held.lost) {
          const keep = intent && intent.record.desired === 'running' && intent.candidates.includes(this.host.owner.node);
          if (!keep) {
            // A holder back from a partition may find itself placed elsewhere because a higher token took the slot:
            // then its replica was a duplicate and is fenced (with its event), not merely moved.
            if (!(await this.fencedMeanwhile())) await this.letGo(intent ? 'moved or stopped by the placement' : 'workload deleted');
          } else if (monotonicMs() - lastRenewAttempt >= this.host.timing.renewMs) {
            lastRenewAttempt = monotonicMs();
            await this.renew(intent.record);
          }
        } else if (intent && intent.record.desired === 'running') {
          // A standby watches the record even while it may not take it: the lease then runs from the holder's last
          // write as this node saw it, not from the moment this node became eligible (which came ~2 s later).
          const obs = await this.claim.observe();
          const held = this.host.mayTake() ? await this.claim.acquire(obs) : undefined;
          if (held) {
            this.beginTenure(held);
            lastRenewAttempt = monotonicMs();
            this.host.report({ kind: 'acquired', token: held.token, takeover: obs.state === 'held' });
            await this.launch(intent.record);
          } else if (obs.state === 'held' && obs.unchangedMs < this.host.timing.leaseMs) {
            // Wake when the lease runs out rather than up to a poll period after.
            waitMs = Math.max(1, Math.min(pollMs, this.host.timing.leaseMs - obs.unchangedMs + 1));
          }
        }
      } catch {
        // Every KV step is bounded and re-tried next turn; the watchdog enforces deadlines meanwhile.
      }
      await sleep(waitMs);
    }
  }

  private async renew(record: WorkloadRecord): Promise<void> {
    const held = this.held!;
    const t0 = monotonicMs();
    const r = await held.renew();
    if (r === 'ok') {
      this.replica?.setDeadline(this.deadlineAt(held, record));
      this.host.report({ kind: 'renewed', token: held.token, latencyMs: monotonicMs() - t0 });
      if (this.partitionedSince !== undefined) {
        this.host.report({ kind: 'partition', token: held.token, healed: true, ms: monotonicMs() - this.partitionedSince });
        this.partitionedSince = undefined;
      }
      // A renewal that succeeds after the deadline proves nobody took over: the replica may run again.
      if (this.suspended) {
        this.suspended = false;
        if (!this.replica) await this.launch(record);
      }
      return;
    }
    if (r === 'unknown') {
      if (this.partitionedSince === undefined && held.sinceRenewMs() > this.host.timing.renewDeadlineMs) {
        this.partitionedSince = monotonicMs() - held.sinceRenewMs();
        this.host.report({ kind: 'partition', token: held.token, healed: false, ms: held.sinceRenewMs() });
      }
      return;
    }
    await this.onLost(held);
  }

  /** One renewal before a graceful hand-over: true when the record had changed hands (then handled as lost). */
  private async fencedMeanwhile(): Promise<boolean> {
    const held = this.held!;
    if ((await held.renew()) !== 'lost') return false;
    await this.onLost(held);
    return true;
  }

  /** Lost: a higher token holds the slot now (or an operator fenced it). The duplicate, if still running, goes. */
  private async onLost(held: HeldLease): Promise<void> {
    this.host.report({ kind: 'lost', token: held.token, reason: 'the lease record changed hands' });
    if (this.replica) this.host.report({ kind: 'fenced', token: held.token, reason: 'a higher fencing token holds the slot' });
    await this.stopReplica('fenced');
    this.endTenure();
  }

  /**
   * Everything remembered about a tenure (deadline passed, partition start, restart count, first healthy time)
   * belongs to that lease alone: a later win of the same slot starts clean. A stale "deadline passed" flag once made
   * an agent that regained a slot stop each replica it started under the new lease.
   */
  private beginTenure(held: HeldLease): void {
    this.held = held;
    this.suspended = false;
    this.partitionedSince = undefined;
    this.restarts = 0;
    this.healthyAt = undefined;
  }

  private endTenure(): void {
    this.held = undefined;
    this.suspended = false;
    this.partitionedSince = undefined;
  }

  /** Under absolute-consistency a replica may not run once the renew deadline minus the stop grace has passed. */
  private pastDeadline(held: HeldLease, record: WorkloadRecord | undefined): boolean {
    if (record?.spec.consistency === 'split-brain-allowed') return false;
    const t = this.host.timing;
    return held.sinceRenewMs() >= t.renewDeadlineMs - t.stopGraceMs;
  }

  /**
   * The wall-clock moment by which the watchdog stops the replica if this agent has not renewed by then: the last
   * successful renewal (as sent) plus the renew deadline. None under split-brain-allowed.
   */
  private deadlineAt(held: HeldLease, record: WorkloadRecord): number | null {
    if (record.spec.consistency === 'split-brain-allowed') return null;
    return Date.now() + (this.host.timing.renewDeadlineMs - held.sinceRenewMs());
  }

  /** Absolute consistency: SIGTERM at deadline − grace, SIGKILL by the deadline, whatever the loop is waiting on. */
  private enforceDeadline(): void {
    const held = this.held;
    if (!held || held.lost || !this.replica) return;
    const t = this.host.timing;
    if (this.pastDeadline(held, this.host.intent()?.record)) {
      this.suspended = true;
      const grace = Math.max(0, t.renewDeadlineMs - held.sinceRenewMs() - 50);
      void this.stopReplica('renew deadline', grace);
    }
  }

  private async launch(record: WorkloadRecord): Promise<void> {
    const held = this.held;
    if (!held || this.replica) return;
    // A replica still stopping (same slot, maybe the same port) is gone before its successor starts.
    await this.stopping;
    if (this.pastDeadline(held, record)) {
      this.suspended = true;
      return;
    }
    const ctx = { node: this.host.owner.node, labels: this.host.labels, slot: this.slot, token: held.token, tokenUrl: this.host.tokenUrl };
    // No status write before the start: it was a KV round trip on every failover's critical path; the write after
    // the start (with the pid) says 'starting' soon enough.
    const replica = await startReplica(record.spec, ctx, { watchdog: this.host.watchdog, deadlineAt: this.deadlineAt(held, record), graceMs: this.host.timing.stopGraceMs });
    // Lost, or past the deadline, while starting: stop it at once (the next successful renewal starts it again).
    if (this.held !== held || held.lost || this.pastDeadline(held, record)) {
      if (this.held === held && !held.lost) this.suspended = true;
      // It ran, however briefly: the history shows it, so a checker sees every process that was ever active.
      this.host.report({ kind: 'started', token: held.token, pid: replica.pid, at: replica.startedAt });
      await replica.stop(0);
      this.host.report({ kind: 'stopped', token: held.token, pid: replica.pid, reason: 'lost while starting', at: replica.endedAt });
      return;
    }
    this.replica = replica;
    this.host.report({ kind: 'started', token: held.token, pid: replica.pid, at: replica.startedAt });
    await this.writeStatus({ state: 'starting', pid: replica.pid });
    void replica.exited.then((code) => this.onExit(replica, record, code));
    const health = record.spec.run.health;
    const check = async () => {
      if (this.replica !== replica) return;
      const ok = await replica.healthy();
      if (this.replica !== replica) return;
      await this.writeStatus({ state: ok ? 'healthy' : 'unhealthy', pid: replica.pid });
    };
    clearInterval(this.healthTimer);
    this.healthTimer = setInterval(() => void check().catch(() => {}), health?.intervalMs ?? 500);
    void check().catch(() => {});
  }

  private healthyAt?: string;

  private lastStatus?: { key: string; at: number };

  /**
   * Writes the slot's status when it changed (or every 5 s as a sign of life), never over the status of a newer
   * tenure: a write held up by a partition and delivered after the heal must not make the old holder look current.
   */
  private async writeStatus(s: { state: SlotStatus['state']; pid?: number }): Promise<void> {
    const held = this.held;
    if (!held) return;
    if (s.state === 'healthy') this.healthyAt ??= new Date().toISOString();
    else if (s.state !== 'unhealthy') this.healthyAt = undefined;
    const same = `${held.token}/${s.state}/${s.pid}/${this.restarts}`;
    if (this.lastStatus?.key === same && monotonicMs() - this.lastStatus.at < 5_000) return;
    const status: SlotStatus = { workload: this.workload, slot: this.slot, node: this.host.owner.node, token: held.token, state: s.state, pid: s.pid, restarts: this.restarts, at: new Date().toISOString(), healthyAt: this.healthyAt };
    const kv = this.host.buckets.status;
    const key = slotStatusKey(this.workload, this.slot);
    try {
      const cur = await kv.get<SlotStatus>(key);
      if (cur && cur.value.token > held.token) return;
      // By revision, so a newer holder's write between our read and write wins.
      if (cur) await kv.update(key, status, cur.revision);
      else await kv.create(key, status);
      this.lastStatus = { key: same, at: monotonicMs() };
    } catch {
      // Lost the race or no answer: the next health check writes again.
    }
  }


  private async onExit(replica: Replica, record: WorkloadRecord, code: number | null): Promise<void> {
    if (this.replica !== replica) return;
    this.replica = undefined;
    clearInterval(this.healthTimer);
    const held = this.held;
    if (!held) return;
    if (replica.stoppedByWatchdog) {
      // The watchdog stopped it at a deadline this agent had not moved in time (paused, or only slow to renew): as
      // after the agent's own deadline stop, the next successful renewal starts it again.
      this.suspended = true;
      this.host.report({ kind: 'stopped', token: held.token, pid: replica.pid, reason: 'renew deadline (watchdog)', at: replica.endedAt });
      await this.writeStatus({ state: 'stopped' });
      return;
    }
    this.host.report({ kind: 'stopped', token: held.token, pid: replica.pid, reason: `exited ${code}`, at: replica.endedAt });
    const run = record.spec.run;
    const again = run.kind === 'process' && (run.restart === 'always' || (run.restart === 'on-failure' && code !== 0));
    if (!again) {
      await this.writeStatus({ state: code === 0 ? 'stopped' : 'failed' });
      return;
    }
    this.restarts++;
    await sleep(Math.min(5_000, 200 * 2 ** Math.min(this.restarts, 5)));
    if (this.held === held && !held.lost && !this.suspended && !this.done.signal.aborted) await this.launch(record).catch(() => {});
  }

  private stopReplica(reason: string, graceMs = this.host.timing.stopGraceMs): Promise<void> {
    const replica = this.replica;
    if (!replica) return this.stopping ?? Promise.resolve();
    this.stopping ??= (async () => {
      this.replica = undefined;
      clearInterval(this.healthTimer);
      await replica.stop(graceMs).catch(() => {});
      this.host.report({ kind: 'stopped', token: this.held?.token ?? 0, pid: replica.pid, reason, at: replica.endedAt });
      this.stopping = undefined;
    })();
    return this.stopping;
  }

  /** Graceful hand-over: the replica stops before the lease is released, so the next holder never overlaps it. */
  private async letGo(reason: string): Promise<void> {
    await this.stopReplica(reason);
    const held = this.held;
    if (!held || held.lost) return;
    await this.writeStatus({ state: 'stopped' });
    await held.release();
    this.host.report({ kind: 'lost', token: held.token, reason: 'released' });
    this.endTenure();
  }
}
