/**
 * The `capstan agent` daemon: heartbeats its node, keeps the membership view, competes for the leader lease (the
 * leader places workloads), and runs a SlotRunner for every slot it is a candidate for.
 */
import { appendFileSync } from 'node:fs';
import { monotonicMs, newId, sleep, type EventBus, type Logger } from '../../../kernel/index.ts';
import * as ev from '../model/events.ts';
import type { NodeBeat, NodeControl } from '../model/node.ts';
import type { Timing } from '../model/timing.ts';
import type { WorkloadRecord } from '../model/workload.ts';
import { openBuckets, type Assignment, type MeshBuckets } from '../store/buckets.ts';
import type { KvStore } from '../../../kernel/index.ts';
import { createAgentMetrics } from './agent-metrics.ts';
import { placeAll } from './leader.ts';
import { RenewalSampler } from './renewal-sampler.ts';
import { LeaseClaim, type HeldLease, type LeaseOwner } from './lease.ts';
import { NodeView } from './node-view.ts';
import { BucketMirror } from '../store/mirror.ts';
import type { LeaseRecord } from './lease.ts';
import { SlotRunner, type SlotEvent } from './slot-runner.ts';
import { WatchdogClient } from './watchdog/client.ts';

/** Options of one agent. */
export interface AgentOptions {
  kv: KvStore;
  bus: EventBus;
  node: string;
  site: string;
  labels: Record<string, string>;
  capacity: number;
  timing: Timing;
  log: Logger;
  /** Port of the local endpoint (tokens, metrics); 0 picks one. */
  port?: number;
  /** JSON lines of every replica start and stop (node, token, this machine's clock), for history checks. */
  historyFile?: string;
}

/** A running agent. */
export class Agent {
  readonly owner: LeaseOwner;
  readonly metrics = createAgentMetrics();
  private b!: MeshBuckets;
  private view!: NodeView;
  private mirrors!: { nodes: BucketMirror<NodeBeat>; control: BucketMirror<NodeControl>; workloads: BucketMirror<WorkloadRecord>; assign: BucketMirror<Assignment>; leases: BucketMirror<LeaseRecord> };
  /** Monotonic time the nodes watch last echoed this node's own beat: a silent watch is re-listed and restarted. */
  private echoAt = monotonicMs();
  private lastResync = monotonicMs();
  private readonly runners = new Map<string, SlotRunner>();
  private workloads = new Map<string, WorkloadRecord>();
  private assignments = new Map<string, Assignment>();
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly done = new AbortController();
  private leaderLoop?: Promise<void>;
  private server?: ReturnType<typeof Bun.serve>;
  private leader?: HeldLease;
  private watchdog?: WatchdogClient;
  private readonly renewals = new RenewalSampler();
  tokenUrl?: string;

  constructor(private readonly o: AgentOptions) {
    this.owner = { node: o.node, session: newId() };
  }

  /** Joins the mesh; resolves once the first heartbeat is written. */
  async start(): Promise<void> {
    // Started first and once: a failover then pays for the replica's start only.
    this.step('replica watchdog');
    this.watchdog = new WatchdogClient(this.o.log);
    await this.watchdog.start();
    this.step('buckets');
    this.b = await openBuckets(this.o.kv);
    this.step('watches');
    this.mirrors = {
      nodes: new BucketMirror<NodeBeat>(this.b.nodes),
      control: new BucketMirror<NodeControl>(this.b.control, 'node.'),
      workloads: new BucketMirror<WorkloadRecord>(this.b.workloads),
      assign: new BucketMirror<Assignment>(this.b.assign),
      leases: new BucketMirror<LeaseRecord>(this.b.leases, 'slot.'),
    };
    this.mirrors.nodes.onChange = (c) => {
      if (c.key === this.o.node && c.op === 'put' && (c.value as NodeBeat | undefined)?.session === this.owner.session) this.echoAt = monotonicMs();
    };
    this.mirrors.leases.onChange = (c) => {
      if (c.op === 'put') this.runners.get(c.key.slice('slot.'.length))?.leaseWritten(c.revision);
    };
    await Promise.all(Object.values(this.mirrors).map((m) => m.start()));
    this.step('first heartbeat');
    this.view = new NodeView(this.mirrors.nodes, this.mirrors.control, this.o.timing);
    this.server = Bun.serve({ hostname: '127.0.0.1', port: this.o.port ?? 0, fetch: (req) => this.serve(req) });
    this.tokenUrl = `http://127.0.0.1:${this.server.port}/tokens`;
    await this.beat();
    this.step('first refresh');
    await this.refresh();
    this.step('running');
    this.timers.push(setInterval(() => void this.beat().catch(() => {}), this.o.timing.heartbeatMs));
    this.timers.push(setInterval(() => void this.refresh().catch((err) => this.o.log.debug({ err }, 'mesh refresh failed')), this.o.timing.heartbeatMs));
    this.timers.push(setInterval(() => this.gauge(), 500));
    this.leaderLoop = this.lead();
    this.o.log.info({ node: this.o.node, site: this.o.site, endpoint: this.tokenUrl }, 'mesh agent joined');
  }

  /** Where start() is (for a join that hangs: the retry says where). */
  joinStep = 'not started';

  /** A start abandoned by stop() (a join attempt that timed out) must not go on to set up timers after it. */
  private step(name: string): void {
    if (this.done.signal.aborted) throw new Error(`agent stopped while joining (before: ${name})`);
    this.joinStep = name;
  }

  /** Leaves gracefully: replicas stop, leases are released, the node key is deleted (others see `left`). */
  async stop(): Promise<void> {
    this.done.abort();
    for (const t of this.timers.splice(0)) clearInterval(t);
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    await this.watchdog?.close();
    await this.leaderLoop;
    // Also called after a start that failed half-way (see join.ts): only what was set up is taken down.
    if (this.mirrors) await Promise.all(Object.values(this.mirrors).map((m) => m.stop().catch(() => {})));
    await this.leader?.release();
    if (this.server) await this.b?.nodes.delete(this.o.node).catch(() => {});
    this.server?.stop(true);
  }

  /** Slots this agent holds now, with their tokens. */
  held(): { workload: string; slot: number; token: number }[] {
    return [...this.runners.values()].filter((r) => r.token !== undefined).map((r) => ({ workload: r.workload, slot: r.slot, token: r.token! }));
  }

  private async beat(): Promise<void> {
    const beat: NodeBeat = { id: this.o.node, site: this.o.site, labels: this.o.labels, capacity: this.o.capacity, session: this.owner.session, startedAt: new Date().toISOString(), at: Date.now(), heartbeatMs: this.o.timing.heartbeatMs, tokenUrl: this.tokenUrl };
    await this.b.nodes.put(this.o.node, beat);
  }

  /**
   * Re-lists every mirrored bucket (and restarts the watches) when the nodes watch has not echoed this node's own
   * beat for three periods: the watch may have died with a lost connection. Also every sixty periods, in case only
   * another bucket's watch went quiet. Otherwise an idle agent reads nothing here.
   */
  private async resyncIfStale(): Promise<void> {
    const now = monotonicMs();
    const silent = now - this.echoAt > 3 * this.o.timing.heartbeatMs;
    if (!silent && now - this.lastResync < 60 * this.o.timing.heartbeatMs) return;
    this.lastResync = now;
    if (silent) this.echoAt = now;
    await Promise.all(Object.values(this.mirrors).map((m) => m.resync(silent)));
  }

  /** Ages the node view from the mirrors; starts runners for slots this node is a candidate for. */
  private async refresh(): Promise<void> {
    await this.resyncIfStale();
    const transitions = this.view.refresh();
    if (this.leader && !this.leader.lost) {
      for (const t of transitions) {
        const def = t.to === 'joined' ? ev.nodeJoined : t.to === 'suspect' ? ev.nodeSuspect : t.to === 'dead' ? ev.nodeDead : t.to === 'left' ? ev.nodeLeft : undefined;
        if (def) this.publish(def, { node: t.node, site: t.site });
      }
    }
    const [workloads, assigned] = [this.mirrors.workloads.list(), this.mirrors.assign.list()];
    this.workloads = new Map(workloads.map((e) => [e.key, e.value]));
    this.assignments = new Map(assigned.map((e) => [e.key, e.value]));
    for (const a of this.assignments.values()) {
      for (const s of a.slots) {
        const key = `${a.workload}.${s.slot}`;
        if (!s.candidates.includes(this.o.node) || this.runners.has(key) || this.done.signal.aborted) continue;
        const runner = new SlotRunner(a.workload, s.slot, this.host(a.workload, s.slot));
        this.runners.set(key, runner);
        runner.start();
      }
    }
    // Idle runners of slots no longer ours go; a holding one lets go by itself first.
    for (const [key, r] of this.runners) {
      if (r.token !== undefined) continue;
      const a = this.assignments.get(r.workload);
      if (!a?.slots.some((s) => s.slot === r.slot && s.candidates.includes(this.o.node))) {
        this.runners.delete(key);
        void r.stop();
      }
    }
  }

  private host(workload: string, slot: number) {
    return {
      owner: this.owner,
      labels: this.o.labels,
      timing: this.o.timing,
      buckets: this.b,
      tokenUrl: this.tokenUrl,
      watchdog: this.watchdog!,
      intent: () => {
        const record = this.workloads.get(workload);
        const s = this.assignments.get(workload)?.slots.find((x) => x.slot === slot);
        return record && s ? { record, candidates: s.candidates } : undefined;
      },
      mayTake: () => this.mayTake(workload, slot),
      report: (e: SlotEvent) => this.onSlotEvent(workload, slot, e),
    };
  }

  /** This node takes a slot only when every candidate before it is not alive or not taking work, and it has room. */
  private mayTake(workload: string, slot: number): boolean {
    const mine: NodeControl = this.view.controlOf(this.o.node);
    if (mine.cordoned || mine.draining) return false;
    const held = this.held();
    if (held.length >= this.o.capacity) return false;
    const record = this.workloads.get(workload);
    const t = record?.spec.topology;
    const sameNode = t?.kind === 'horizontal' && t.allowSameNode;
    if (!sameNode && held.some((h) => h.workload === workload && h.slot !== slot)) return false;
    const candidates = this.assignments.get(workload)?.slots.find((s) => s.slot === slot)?.candidates ?? [];
    for (const c of candidates) {
      if (c === this.o.node) return true;
      const ctl = this.view.controlOf(c);
      if (this.view.state(c) === 'alive' && !ctl.draining && !ctl.cordoned) return false;
    }
    return false;
  }

  private onSlotEvent(workload: string, slot: number, e: SlotEvent): void {
    const node = this.o.node;
    const lease = `slot.${workload}.${slot}`;
    switch (e.kind) {
      case 'acquired':
        if (e.takeover) this.metrics.failovers.inc();
        this.publish(ev.leaseAcquired, { lease, node, token: e.token });
        break;
      case 'renewed':
        this.metrics.renewLatency.observe(e.latencyMs / 1000);
        this.renewedEvent(lease, e.token);
        break;
      case 'lost':
        this.renewals.forget(lease);
        this.publish(ev.leaseLost, { lease, node, token: e.token, reason: e.reason });
        break;
      case 'started':
        this.history({ ev: 'start', workload, slot, token: e.token, pid: e.pid }, e.at);
        this.publish(ev.workloadStarted, { workload, slot, node, token: e.token });
        break;
      case 'stopped':
        // When the watchdog saw it end, which is earlier than now if this agent was paused meanwhile.
        this.history({ ev: 'stop', workload, slot, token: e.token, pid: e.pid, reason: e.reason }, e.at);
        if (e.reason?.startsWith('renew deadline') || e.reason === 'fenced') this.metrics.fencedStops.inc();
        this.publish(ev.workloadStopped, { workload, slot, node, token: e.token, reason: e.reason });
        break;
      case 'fenced':
        this.publish(ev.workloadFenced, { workload, slot, node, token: e.token, reason: e.reason });
        break;
      case 'partition':
        this.publish(e.healed ? ev.partitionHealed : ev.partitionDetected, e.healed ? { node, afterMs: e.ms } : { node, sinceMs: e.ms });
        break;
    }
  }

  private renewedEvent(lease: string, token: number): void {
    const renewals = this.renewals.renewed(lease, token, monotonicMs());
    if (renewals === undefined) return;
    void ev.leaseRenewed.publish(this.o.bus, { lease, node: this.o.node, token, renewals }).catch((err) => {
      this.o.log.debug({ err, lease }, 'mesh.lease.renewed not published; the next renewal tries again');
      this.renewals.unpublished(lease, token, renewals);
    });
  }

  private history(entry: Record<string, unknown>, t = Date.now()): void {
    if (!this.o.historyFile) return;
    appendFileSync(this.o.historyFile, `${JSON.stringify({ t, node: this.o.node, ...entry })}\n`);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private publish(def: { publish(bus: EventBus, data: any): Promise<unknown> }, data: unknown): void {
    void def.publish(this.o.bus, data).catch((err) => this.o.log.debug({ err }, 'mesh event not published'));
  }

  private gauge(): void {
    this.metrics.held.set(this.held().length);
  }

  /** Leader election by the same lease rules; the leader re-places every heartbeat period. */
  private async lead(): Promise<void> {
    const t = this.o.timing;
    const claim = new LeaseClaim(this.b.leases, 'leader', this.owner, t);
    let lastRenew = 0;
    // Workloads whose placement failed on the last pass, with the reason (for logging changes only).
    let unsatisfied = new Map<string, string>();
    while (!this.done.signal.aborted) {
      try {
        const held = this.leader;
        if (held && !held.lost) {
          if (monotonicMs() - lastRenew >= t.renewMs) {
            lastRenew = monotonicMs();
            const r = await held.renew();
            if (r === 'ok') this.renewedEvent('leader', held.token);
            if (r === 'lost') this.publish(ev.leaseLost, { lease: 'leader', node: this.o.node, token: held.token, reason: 'the record changed hands' });
          }
          // A leader past its renew deadline stops placing, exactly as a slot holder stops its replica.
          if (!held.lost && held.sinceRenewMs() < t.renewDeadlineMs && this.view.warm()) {
            const errors = await placeAll(this.b, { workloads: this.mirrors.workloads.list(), assigned: this.mirrors.assign.list(), leases: this.mirrors.leases.list() }, this.view.list(), held.token);
            // Logged when a workload's reason appears or changes and when it clears, not every tick (a KV outage made
            // the same warning repeat each heartbeat); the counter still counts every failed placement attempt.
            for (const [workload, msg] of errors) if (unsatisfied.get(workload) !== msg) this.o.log.warn({ workload, error: msg }, 'placement unsatisfiable');
            for (const workload of unsatisfied.keys()) if (!errors.has(workload)) this.o.log.info({ workload }, 'placement satisfiable again');
            unsatisfied = new Map(errors);
            this.metrics.placementErrors.inc(errors.size);
          }
        } else {
          this.leader = undefined;
          const obs = await claim.observe();
          const won = await claim.acquire(obs);
          if (won) {
            this.leader = won;
            lastRenew = monotonicMs();
            this.publish(ev.leaseAcquired, { lease: 'leader', node: this.o.node, token: won.token });
          }
        }
      } catch (err) {
        this.o.log.debug({ err }, 'mesh leader step failed');
      }
      await sleep(Math.min(t.heartbeatMs, t.renewMs / 2));
    }
  }

  /** Local endpoint: GET /tokens/<workload>/<slot> → current token (409 when not held); GET /metrics. */
  private async serve(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === '/metrics') return new Response(await this.metrics.registry.metrics(), { headers: { 'content-type': this.metrics.registry.contentType } });
    const m = /^\/tokens\/([a-z0-9-]+)\/(\d+)$/.exec(url.pathname);
    if (m) {
      const r = this.runners.get(`${m[1]}.${m[2]}`);
      if (r?.token !== undefined) return Response.json({ workload: m[1], slot: Number(m[2]), node: this.o.node, token: r.token });
      return Response.json({ title: 'not held by this node', status: 409 }, { status: 409, headers: { 'content-type': 'application/problem+json' } });
    }
    if (url.pathname === '/healthz') return Response.json({ node: this.o.node, held: this.held() });
    return new Response('not found', { status: 404 });
  }
}
