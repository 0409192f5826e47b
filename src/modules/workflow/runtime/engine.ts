/** The durable workflow engine: triggers, callbacks, run controls and await, plus the role-held consumers and pollers that drive runs. */
import { Conflict, Invalid, newId, NotFound, realClock, type Clock, type EventBus, type KvStore, type Logger, type RoleHandle, type Roles } from '../../../kernel/index.ts';
import type { AnyWorkflowSpec, WorkflowSpec } from '../model/builder.ts';
import { ignoreMalformed, RunStatusChanged } from '../model/events.ts';
import type { WorkflowMetrics } from './metrics.ts';
import { RecentRuns } from './recent-runs.ts';
import { isControl, toRun, type RunRecord } from '../model/run.ts';
import { connectorRoleName, derivedNames, roleName } from './names.ts';
import { runStepConsumer, type StepFailures } from './step-consumer.ts';
import type { NewTriggerKey, WorkflowStorePort } from '../store/index.ts';
import { TimeoutPoller } from './timeout-poller.ts';
import { triggerOnce, type TriggerOutcome } from './trigger-once.ts';
import { eventsFor, statusRoute, Transitioner } from './transitions.ts';
import { applyConnectorAction, runConnector, runScheduler } from './triggers.ts';

// Expired keys are harmless (lookups ignore them), so a sweep every 10 minutes keeps the table small enough.
const TRIGGER_KEY_SWEEP_MS = 10 * 60_000;

/** Engine settings (from the module's config). */
export interface EngineOptions {
  store: WorkflowStorePort;
  bus: EventBus;
  /** Consumers and pollers run as kernel roles; step and connector shards are spread over live instances. */
  roles: Roles;
  /** Holds the claimed schedule slots. */
  kv: KvStore;
  log: Logger;
  metrics: WorkflowMetrics;
  leaseTtlMs: number;
  sweepIntervalMs: number;
  /** The longest the timeout poller sleeps without news; it wakes for the next due timeout and for each one armed. */
  timeoutPollMs: number;
  /** Runs paused by errors are resumed after this long. */
  retryPausedAfterMs: number;
  /** Runs one consumer shard works on at once, unless the step says otherwise. Default 16. */
  stepConcurrency?: number;
  /** Timeouts, retries, sweeps and schedules read time through it; the real clock by default. */
  clock?: Clock;
  /** How long an Idempotency-Key of a trigger is kept; 24 h (TRIGGER_KEY_TTL_MS) unless a test shortens it. */
  triggerKeyTtlMs?: number;
}

/** Runs workflows registered with it. */
export class WorkflowEngine {
  private readonly specs = new Map<string, { spec: WorkflowSpec; transitioner: Transitioner }>();
  private readonly roles: RoleHandle[] = [];
  /** Consumer roles per workflow, so a re-applied definition gets consumers for its new statuses. */
  private readonly consumerRoles = new Map<string, RoleHandle[]>();
  private readonly failures = new Map<string, StepFailures>();
  /** Runs as this process last wrote them, so the next step usually needs no read. */
  private readonly recent = new RecentRuns();
  private started = false;
  private registering: Promise<void> = Promise.resolve();

  private readonly clock: Clock;
  private readonly timeouts: TimeoutPoller;

  constructor(private readonly o: EngineOptions) {
    this.clock = o.clock ?? realClock;
    this.timeouts = new TimeoutPoller({
      store: o.store,
      bus: o.bus,
      clock: this.clock,
      log: o.log,
      maxSleepMs: o.timeoutPollMs,
      timeoutSubjects: () => this.timeoutSubjects(),
      fire: (t) => this.fireTimeout(t.id, t.runId, t.status),
    });
  }

  /** Registers (or replaces) a workflow; if the engine runs, its consumers are (re)started. */
  register(anySpec: AnyWorkflowSpec): Promise<void> {
    // One at a time: a definition applied here is registered again when its applied event comes back, and two
    // overlapping restarts would each start the workflow's roles (the second refused by the kernel as held already).
    const next = this.registering.then(async () => {
      const spec = anySpec as WorkflowSpec;
      this.assertNamesFree(spec);
      this.specs.set(spec.name, { spec, transitioner: new Transitioner(this.o.store, spec, this.o.log, this.o.metrics, this.recent, this.clock) });
      // Its timeout statuses may be new: the poller subscribes to their announcements and reads the table again.
      this.timeouts.wake();
      if (!this.started) return;
      await this.stopConsumers(spec.name);
      this.startConsumers(spec);
    });
    this.registering = next.catch(() => {});
    return next;
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
  async trigger(workflow: string, foreignId: string, object: unknown = {}, start?: string, triggerKey?: NewTriggerKey): Promise<RunRecord> {
    const { spec, transitioner } = this.get(workflow);
    const status = start ?? spec.start;
    if (!spec.statuses.has(status)) throw new Invalid(`unknown start status '${status}'`, [{ path: 'start', message: `one of ${[...spec.statuses].join(', ')}` }]);
    if (spec.terminal.has(status)) throw new Invalid(`'${status}' is a terminal status; a run cannot start there`, [{ path: 'start', message: 'not a terminal status' }]);
    if (spec.prepareObject && start === undefined) object = spec.prepareObject(object);
    // Connectors and actions reach here without the HTTP edge's check: the store refuses what it cannot keep.
    const run = await this.o.store.createRun({ workflow, foreignId, status, object, runState: 'running', ...(triggerKey ? { triggerKey } : {}) }, (r) => eventsFor(r), transitioner.initialTimeoutAt(status));
    this.recent.put(run);
    return run;
  }

  /** `trigger` under an Idempotency-Key (trigger-once.ts): a repeat of the request answers the first run. */
  triggerWithKey(workflow: string, foreignId: string, object: unknown, start: string | undefined, key: string, requestHash: string): Promise<TriggerOutcome> {
    return triggerOnce({ store: this.o.store, clock: this.clock, ttlMs: this.o.triggerKeyTtlMs }, workflow, key, requestHash, (k) => this.trigger(workflow, foreignId, object, start, k));
  }

  /** Applies an external callback to a run waiting at `status`; 409 if the run is elsewhere. */
  async callback(runId: string, status: string, body: { status?: string; object?: unknown }): Promise<RunRecord> {
    const record = await this.mustFind(runId);
    const { spec, transitioner } = this.get(record.workflow);
    if (record.status !== status) {
      // A retry of a callback whose answer was lost: the move it asked for is recorded, so answer the run as it is.
      if (body.status && (await this.moveRecorded(runId, status, body.status))) return record;
      throw new Conflict(`run ${runId} is at '${record.status}', not '${status}'`, { currentStatus: record.status });
    }
    if (record.runState !== 'running') throw new Conflict(`run ${runId} is ${record.runState}`, { runState: record.runState });
    const p = spec.processes.get(status);
    if (!p?.callback) throw new Conflict(`status '${status}' of workflow '${spec.name}' takes no callback`);
    const run = toRun(record);
    const out = await p.callback(run as never, body);
    if (isControl(out)) return (await transitioner.control(record, out, run.object)) ?? record;
    return transitioner.moveTo(record, out, p.to, run.object);
  }

  /** Whether the run's history records a resume: a paused row followed by a running one. */
  private async resumeRecorded(runId: string): Promise<boolean> {
    const states = (await this.o.store.history(runId)).map((h) => h.runState);
    return states.some((s, i) => s === 'paused' && states[i + 1] === 'running');
  }

  /** Whether the run's history records a move from `from` straight to `to`. */
  private async moveRecorded(runId: string, from: string, to: string): Promise<boolean> {
    const statuses = (await this.o.store.history(runId)).map((h) => h.status).filter((s, i, all) => i === 0 || s !== all[i - 1]);
    return statuses.some((s, i) => s === from && statuses[i + 1] === to);
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

  /**
   * Pauses a running run. A run already paused answers as it is: the state asked for is the one recorded, which is
   * what a retry of a pause whose answer was lost finds (a 409 there would tell the client its pause failed).
   */
  async pause(runId: string, reason = 'paused through the API'): Promise<RunRecord> {
    const r = await this.mustFind(runId);
    if (r.runState === 'paused') return r;
    if (r.runState !== 'running' && r.runState !== 'initiated') throw new Conflict(`run ${runId} is ${r.runState}; only a running run can be paused`, { runState: r.runState });
    return this.get(r.workflow).transitioner.setRunState(r, 'paused', reason);
  }

  /**
   * Resumes a paused run: its current step runs again. A running run whose history records a resume (a retry of a
   * resume whose answer was lost) answers as it is, wherever it went since; a run that was never paused stays a 409.
   */
  async resume(runId: string): Promise<RunRecord> {
    const r = await this.mustFind(runId);
    if (r.runState === 'running' && (await this.resumeRecorded(runId))) return r;
    if (r.runState !== 'paused') throw new Conflict(`run ${runId} is ${r.runState}, not paused`, { runState: r.runState });
    return this.get(r.workflow).transitioner.setRunState(r, 'running', null);
  }

  /** Cancels a run that is not finished; a cancelled run answers as it is (a retry of a cancel whose answer was lost). */
  async cancel(runId: string, reason = 'cancelled through the API'): Promise<RunRecord> {
    const r = await this.mustFind(runId);
    if (r.runState === 'cancelled') return r;
    if (r.runState === 'completed') throw new Conflict(`run ${runId} is already ${r.runState}`, { runState: r.runState });
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
    const sub = await this.o.bus.subscribe(
      RunStatusChanged.subject(statusRoute(workflow, status)),
      RunStatusChanged.handler((e) => {
        if (e.data.runId === runId && e.data.status === status) resolveHit();
      }, ignoreMalformed(this.o.log)),
    );
    try {
      const passed = (await this.o.store.history(runId)).some((h) => h.status === status);
      if (!passed) {
        const waited = new AbortController();
        const reached = await Promise.race([hit.then(() => true), this.clock.sleep(timeoutMs, waited.signal).then(() => false)]);
        waited.abort();
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
    const ttl = { ttlMs: this.o.leaseTtlMs };
    // Fires expired timeouts while this instance holds the role, even for runs whose instance died.
    this.roles.push(this.o.roles.holdRole('workflow-timeouts', ttl, (signal) => this.timeouts.run(signal)));
    this.roles.push(this.o.roles.holdRole('workflow-paused-retry', ttl, (signal) => this.retryPaused(signal)));
    this.roles.push(this.o.roles.holdRole('workflow-trigger-keys', ttl, (signal) => this.sweepTriggerKeys(signal)));
    this.roles.push(
      this.o.roles.holdRole('workflow-scheduler', ttl, async (signal) => {
        const slots = await this.o.kv.bucket('workflow-schedule-slots', { ttlMs: 7 * 86_400_000 });
        await runScheduler(() => [...this.specs.values()].map((w) => w.spec), slots, this, this.o.log, signal, this.clock);
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
    const roles: RoleHandle[] = [];
    this.consumerRoles.set(spec.name, roles);
    const ttl = { ttlMs: this.o.leaseTtlMs };
    for (const c of spec.connectors) {
      // A webhook-only connector has nothing to consume: it holds no role.
      const source = c.source;
      if (source === undefined) continue;
      // Shards of a connector subscribe to one durable, which hands each event to one of them: a busy subject is
      // spread over instances, and a dead instance's shard moves within the role TTL like a step's.
      const n = c.parallel ?? 1;
      const names = Array.from({ length: n }, (_, shard) => connectorRoleName(spec.name, c.name, shard, n));
      roles.push(this.o.roles.holdShards(`${spec.name}/connector/${c.name}`, names, ttl, (signal) => runConnector(this.o.bus, spec, { ...c, source }, this, signal, this.o.log)));
    }
    for (const [status, process] of spec.processes) {
      if (!process.step) continue;
      // The shards of one step are one role set: the kernel spreads them over the live instances and moves them
      // when instances come and go (the durables are shared, and a step is idempotent by status and version).
      const names = Array.from({ length: process.parallel }, (_, shard) => roleName(spec.name, status, shard, process.parallel));
      roles.push(
        this.o.roles.holdShards(`${spec.name}/${status}`, names, ttl, (signal, held) =>
          runStepConsumer(
            { spec, status, process, shard: held.shard, store: this.o.store, bus: this.o.bus, transitioner: this.get(spec.name).transitioner, metrics: this.o.metrics, log: this.o.log.child({ role: held.name }), failures: this.failures, recent: this.recent, sweepIntervalMs: this.o.sweepIntervalMs, clock: this.clock, concurrency: process.concurrency ?? this.o.stepConcurrency ?? 16 },
            signal,
          ),
        ),
      );
    }
  }

  /** The status_changed subjects of the statuses that arm a timeout: their events wake the timeout poller. */
  private timeoutSubjects(): string[] {
    const subjects: string[] = [];
    for (const { spec } of this.specs.values()) {
      for (const [status, p] of spec.processes) if (p.timeout) subjects.push(RunStatusChanged.subject(statusRoute(spec.name, status)));
    }
    return subjects;
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
      const before = new Date(this.clock.now() - this.o.retryPausedAfterMs);
      for (const r of await this.o.store.pausedByErrorsBefore(before, 100)) {
        // A run of a workflow this instance does not run is skipped: throwing here would stop every later resume.
        const w = this.specs.get(r.workflow);
        if (!w) continue;
        await w.transitioner.setRunState(r, 'running', null).catch(() => {});
      }
      await this.clock.sleep(Math.min(this.o.retryPausedAfterMs, 30_000), signal);
    }
  }

  /** Removes expired Idempotency-Keys while this instance holds the role; a key past its 24 h is never answered anyway. */
  private async sweepTriggerKeys(signal: AbortSignal): Promise<void> {
    const batch = 1000;
    while (!signal.aborted) {
      const n = await this.o.store.deleteExpiredTriggerKeys(this.clock.date(), batch).catch((err) => {
        this.o.log.warn({ err }, 'trigger key sweep failed');
        return 0;
      });
      if (n < batch) await this.clock.sleep(TRIGGER_KEY_SWEEP_MS, signal);
    }
  }

  private async mustFind(runId: string): Promise<RunRecord> {
    const r = await this.o.store.lookup(runId);
    if (!r) throw new NotFound(`run '${runId}'`);
    return r;
  }
}

