/** The durable workflow engine: triggers, callbacks, run controls and await, plus the role-held consumers and pollers that drive runs. */
import { Conflict, Invalid, newId, NotFound, sleep, subjectOf, type EventBus, type KvStore, type Leases, type Logger } from '../../kernel/index.ts';
import type { AnyWorkflowSpec, WorkflowSpec } from './builder.ts';
import type { WorkflowMetrics } from './metrics.ts';
import { assertStorable } from './definition/index.ts';
import { RecentRuns } from './recent-runs.ts';
import { holdRole, untilAborted } from './role.ts';
import { isControl, toRun, type RunRecord } from './run.ts';
import { connectorRoleName, derivedNames, roleName } from './names.ts';
import { runStepConsumer, type StepFailures } from './step-consumer.ts';
import type { WorkflowStorePort } from './store-port.ts';
import { eventsFor, statusRoute, Transitioner } from './transitions.ts';
import { applyConnectorAction, runConnector, runScheduler } from './triggers.ts';

/** Engine settings (from the module's config). */
export interface EngineOptions {
  store: WorkflowStorePort;
  bus: EventBus;
  leases: Leases;
  /** Holds the claimed schedule slots. */
  kv: KvStore;
  log: Logger;
  metrics: WorkflowMetrics;
  leaseTtlMs: number;
  sweepIntervalMs: number;
  timeoutPollMs: number;
  /** Runs paused by errors are resumed after this long. */
  retryPausedAfterMs: number;
  /** Runs one consumer shard works on at once, unless the step says otherwise. Default 16. */
  stepConcurrency?: number;
}

/** Runs workflows registered with it. */
export class WorkflowEngine {
  private readonly specs = new Map<string, { spec: WorkflowSpec; transitioner: Transitioner }>();
  private readonly roles: { stop(): Promise<void> }[] = [];
  /** Consumer roles per workflow, so a re-applied definition gets consumers for its new statuses. */
  private readonly consumerRoles = new Map<string, { stop(): Promise<void> }[]>();
  private readonly failures = new Map<string, StepFailures>();
  /** Runs as this process last wrote them, so the next step usually needs no read. */
  private readonly recent = new RecentRuns();
  private started = false;

  constructor(private readonly o: EngineOptions) {}

  /** Registers (or replaces) a workflow; if the engine runs, its consumers are (re)started. */
  async register(anySpec: AnyWorkflowSpec): Promise<void> {
    const spec = anySpec as WorkflowSpec;
    this.assertNamesFree(spec);
    this.specs.set(spec.name, { spec, transitioner: new Transitioner(this.o.store, spec, this.o.log, this.o.metrics, this.recent) });
    if (!this.started) return;
    await this.stopConsumers(spec.name);
    this.startConsumers(spec);
  }

  /**
   * Refuses a workflow whose consumers would share a lease or durable with another workflow's (`a-b` at status `c`
   * and `a` at status `b-c` both make `a-b-c-consumer-1-of-1`): only one of them would ever run. Invalid naming `name`.
   */
  assertNamesFree(spec: AnyWorkflowSpec): void {
    const taken = new Map<string, string>();
    for (const [name, w] of this.specs) {
      if (name === spec.name) continue;
      for (const d of derivedNames(w.spec)) taken.set(d.name, `${d.what} of workflow '${name}'`);
    }
    for (const d of derivedNames(spec as WorkflowSpec)) {
      const other = taken.get(d.name);
      if (other) throw new Invalid(`${d.what} would use '${d.name}', as ${other} does`, [{ path: 'name', message: `clashes with ${other} ('${d.name}'); rename the workflow or the status` }]);
    }
  }

  private async stopConsumers(workflow: string): Promise<void> {
    const old = this.consumerRoles.get(workflow) ?? [];
    this.consumerRoles.delete(workflow);
    await Promise.all(old.map((r) => r.stop()));
  }

  /** Names of registered workflows. */
  names(): string[] {
    return [...this.specs.keys()].sort();
  }

  /** The spec of a workflow, or NotFound. */
  get(name: string): { spec: WorkflowSpec; transitioner: Transitioner } {
    const w = this.specs.get(name);
    if (!w) throw new NotFound(`workflow '${name}'`);
    return w;
  }

  /** Starts a run at the start status (or `start`); Conflict (with activeRunId) if one is active for the foreign id. */
  async trigger(workflow: string, foreignId: string, object: unknown = {}, start?: string): Promise<RunRecord> {
    const { spec, transitioner } = this.get(workflow);
    const status = start ?? spec.start;
    if (!spec.statuses.has(status)) throw new Invalid(`unknown start status '${status}'`, [{ path: 'start', message: `one of ${[...spec.statuses].join(', ')}` }]);
    if (spec.terminal.has(status)) throw new Invalid(`'${status}' is a terminal status; a run cannot start there`, [{ path: 'start', message: 'not a terminal status' }]);
    if (spec.prepareObject && start === undefined) object = spec.prepareObject(object);
    // Connectors and actions reach here without the HTTP edge's check.
    assertStorable(object, 'object');
    const run = await this.o.store.createRun({ workflow, foreignId, status, object, runState: 'running' }, (r) => eventsFor(r), transitioner.initialTimeoutAt(status));
    this.recent.put(run);
    return run;
  }

  /** Applies an external callback to a run waiting at `status`; 409 if the run is elsewhere. */
  async callback(runId: string, status: string, body: { status?: string; object?: unknown }): Promise<RunRecord> {
    const record = await this.mustFind(runId);
    const { spec, transitioner } = this.get(record.workflow);
    if (record.status !== status) throw new Conflict(`run ${runId} is at '${record.status}', not '${status}'`, { currentStatus: record.status });
    if (record.runState !== 'running') throw new Conflict(`run ${runId} is ${record.runState}`, { runState: record.runState });
    const p = spec.processes.get(status);
    if (!p?.callback) throw new Conflict(`status '${status}' of workflow '${spec.name}' takes no callback`);
    const run = toRun(record);
    const out = await p.callback(run as never, body);
    if (isControl(out)) return (await transitioner.control(record, out, run.object)) ?? record;
    return transitioner.moveTo(record, out, p.to, run.object);
  }

  /** A callback addressed by foreign id: goes to the active run of (workflow, foreignId). */
  async callbackByForeignId(workflow: string, foreignId: string, status: string, body: { status?: string; object?: unknown }): Promise<RunRecord> {
    const run = await this.o.store.latest(workflow, foreignId);
    if (!run) throw new NotFound(`run of '${workflow}' for foreign id '${foreignId}'`);
    return this.callback(run.runId, status, body);
  }

  /** A webhook delivery for a connector: the connector maps the body to a trigger or a callback. */
  async webhook(workflow: string, connector: string, body: unknown): Promise<'done' | 'skipped'> {
    const c = this.get(workflow).spec.connectors.find((x) => x.name === connector);
    if (!c) throw new NotFound(`connector '${connector}' of workflow '${workflow}'`);
    return applyConnectorAction(this, workflow, await c.fn({ type: 'webhook', data: body, id: newId() }));
  }

  /** Pauses a running run. */
  async pause(runId: string, reason = 'paused through the API'): Promise<RunRecord> {
    const r = await this.mustFind(runId);
    if (r.runState !== 'running' && r.runState !== 'initiated') throw new Conflict(`run ${runId} is ${r.runState}; only a running run can be paused`, { runState: r.runState });
    return this.get(r.workflow).transitioner.setRunState(r, 'paused', reason);
  }

  /** Resumes a paused run: its current step runs again. */
  async resume(runId: string): Promise<RunRecord> {
    const r = await this.mustFind(runId);
    if (r.runState !== 'paused') throw new Conflict(`run ${runId} is ${r.runState}, not paused`, { runState: r.runState });
    return this.get(r.workflow).transitioner.setRunState(r, 'running', null);
  }

  /** Cancels a run that is not finished. */
  async cancel(runId: string, reason = 'cancelled through the API'): Promise<RunRecord> {
    const r = await this.mustFind(runId);
    if (r.runState === 'cancelled' || r.runState === 'completed') throw new Conflict(`run ${runId} is already ${r.runState}`, { runState: r.runState });
    return this.get(r.workflow).transitioner.setRunState(r, 'cancelled', reason);
  }

  /** Replaces the object with a scrubbed value and marks the data deleted; the history of statuses stays. */
  async deleteData(runId: string): Promise<RunRecord> {
    const r = await this.mustFind(runId);
    // Deleting again changes nothing: answer with the run as it is rather than write another version and history row.
    if (r.runState === 'dataDeleted') return r;
    this.recent.forget(runId);
    return this.o.store.deleteData(runId, { deleted: true }, (after) => eventsFor(after, r));
  }

  /** Waits until the run has been at `status` (checks history first, so a run that already passed it answers at once). */
  async await(runId: string, status: string, timeoutMs: number): Promise<RunRecord | undefined> {
    let resolveHit!: () => void;
    const hit = new Promise<void>((r) => (resolveHit = r));
    // Subscribe before reading the store: an event in between is caught by the subscription, not lost.
    const { workflow } = await this.mustFind(runId);
    const sub = await this.o.bus.subscribe(subjectOf('workflow.run.status_changed', statusRoute(workflow, status)), (e) => {
      const d = e.data as { runId: string; status: string };
      if (d.runId === runId && d.status === status) resolveHit();
    });
    try {
      const passed = (await this.o.store.history(runId)).some((h) => h.status === status);
      if (!passed) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const reached = await Promise.race([hit.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
        clearTimeout(timer);
        if (!reached) return undefined;
      }
      return await this.o.store.lookup(runId);
    } finally {
      await sub.unsubscribe();
    }
  }

  /** Starts consumers for every registered workflow and the role-held pollers. */
  start(): void {
    this.started = true;
    for (const { spec } of this.specs.values()) this.startConsumers(spec);
    this.roles.push(holdRole(this.o.leases, 'workflow-timeouts', this.o.leaseTtlMs, this.o.log, (signal) => this.pollTimeouts(signal)));
    this.roles.push(holdRole(this.o.leases, 'workflow-paused-retry', this.o.leaseTtlMs, this.o.log, (signal) => this.retryPaused(signal)));
    this.roles.push(
      holdRole(this.o.leases, 'workflow-scheduler', this.o.leaseTtlMs, this.o.log, async (signal) => {
        const slots = await this.o.kv.bucket('workflow-schedule-slots', { ttlMs: 7 * 86_400_000 });
        await runScheduler(() => [...this.specs.values()].map((w) => w.spec), slots, this, this.o.log, signal);
      }),
    );
  }

  /** Stops every role this instance holds (their leases are released for others). */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.consumerRoles.keys()].map((w) => this.stopConsumers(w)));
    await Promise.all(this.roles.splice(0).map((r) => r.stop()));
  }

  private startConsumers(spec: WorkflowSpec): void {
    const roles: { stop(): Promise<void> }[] = [];
    this.consumerRoles.set(spec.name, roles);
    for (const c of spec.connectors) {
      // A webhook-only connector has nothing to consume: it holds no role.
      const source = c.source;
      if (source === undefined) continue;
      // Shards of a connector subscribe to one durable, which hands each event to one of them: a busy subject is
      // spread over instances, and a dead instance's shard moves within the role TTL like a step's.
      const n = c.parallel ?? 1;
      for (let shard = 0; shard < n; shard++) {
        roles.push(holdRole(this.o.leases, connectorRoleName(spec.name, c.name, shard, n), this.o.leaseTtlMs, this.o.log, (signal) => runConnector(this.o.bus, spec, { ...c, source }, this, signal, this.o.log)));
      }
    }
    for (const [status, process] of spec.processes) {
      if (!process.step) continue;
      for (let shard = 0; shard < process.parallel; shard++) {
        const role = roleName(spec.name, status, shard, process.parallel);
        roles.push(
          holdRole(this.o.leases, role, this.o.leaseTtlMs, this.o.log, (signal) =>
            runStepConsumer(
              { spec, status, process, shard, store: this.o.store, bus: this.o.bus, transitioner: this.get(spec.name).transitioner, metrics: this.o.metrics, log: this.o.log.child({ role }), failures: this.failures, recent: this.recent, sweepIntervalMs: this.o.sweepIntervalMs, concurrency: process.concurrency ?? this.o.stepConcurrency ?? 16 },
              signal,
            ),
          ),
        );
      }
    }
  }

  /** Fires expired timeouts while this instance holds the timeouts role, even for runs whose instance died. */
  private async pollTimeouts(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const due = await this.o.store.expiredTimeouts(new Date(), 100);
      for (const t of due) {
        if (signal.aborted) return;
        await this.fireTimeout(t.id, t.runId, t.status).catch((err) => this.o.log.warn({ err, runId: t.runId }, 'timeout failed'));
      }
      if (due.length < 100) await Promise.race([sleep(this.o.timeoutPollMs), untilAborted(signal)]);
    }
  }

  private async fireTimeout(id: number, runId: string, status: string): Promise<void> {
    const record = await this.o.store.lookup(runId);
    const w = record && this.specs.get(record.workflow);
    const t = w?.spec.processes.get(status)?.timeout;
    if (record && w && t && record.status === status && record.runState === 'running') {
      const run = toRun(record);
      const out = await t.fn(run as never);
      try {
        if (isControl(out)) await w.transitioner.control(record, out, run.object);
        else await w.transitioner.moveTo(record, out, t.to, run.object, 'timed out');
      } catch (err) {
        if (!(err instanceof Conflict)) throw err;
      }
    }
    await this.o.store.completeTimeout(id);
  }

  /** Resumes runs that errors paused, after the configured delay. */
  private async retryPaused(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const before = new Date(Date.now() - this.o.retryPausedAfterMs);
      for (const r of await this.o.store.pausedByErrorsBefore(before, 100)) {
        // A run of a workflow this instance does not run is skipped: throwing here would stop every later resume.
        const w = this.specs.get(r.workflow);
        if (!w) continue;
        await w.transitioner.setRunState(r, 'running', null).catch(() => {});
      }
      await Promise.race([sleep(Math.min(this.o.retryPausedAfterMs, 30_000)), untilAborted(signal)]);
    }
  }

  private async mustFind(runId: string): Promise<RunRecord> {
    const r = await this.o.store.lookup(runId);
    if (!r) throw new NotFound(`run '${runId}'`);
    return r;
  }
}

