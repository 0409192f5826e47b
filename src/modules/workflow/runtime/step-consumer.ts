/** One consumer shard of one step: consumes status changes durably, runs the step for runs in its shard, and sweeps for missed ones. */
import { Conflict, isTransient, nextRetryDelayMs, realClock, shardOf, untilAborted, withSpan, type Clock, type EventBus, type Logger, type Timer } from '../../../kernel/index.ts';
import type { StatusProcess, WorkflowSpec } from '../model/builder.ts';
import { ignoreMalformed, RunStatusChanged } from '../model/events.ts';
import type { WorkflowMetrics } from './metrics.ts';
import type { RecentRuns } from './recent-runs.ts';
import { ERROR_PAUSE_PREFIX } from '../model/run-state.ts';
import { isControl, toRun } from '../model/run.ts';
import { roleName } from './names.ts';
import type { WorkflowStorePort } from '../store/index.ts';
import { statusRoute, type Transitioner } from './transitions.ts';

/** Where a consumer shard runs. */
export interface StepConsumerDeps {
  spec: WorkflowSpec;
  status: string;
  process: StatusProcess;
  shard: number;
  store: WorkflowStorePort;
  bus: EventBus;
  transitioner: Transitioner;
  metrics: WorkflowMetrics;
  log: Logger;
  /** Per (process, run) failed attempts and when the next may start; shared so a role that moves within this instance keeps counting. */
  failures: Map<string, StepFailures>;
  /** Comes back for `runId` once its failures' `retryAt` has passed (the consumer's timer); without it, only the sweep does. */
  retryLater?: (runId: string, version: number) => void;
  /** Runs this process just wrote: a hit at the event's version saves reading the run back. */
  recent?: RecentRuns;
  /**
   * The `recent` mark taken when this shard's tenure began: only runs written after it may stand in for a read. One
   * written before may have been moved on by the shard's previous holder (a hand-over), and the step run again.
   */
  recentSince?: number;
  sweepIntervalMs: number;
  /** Backoffs, retry timers and sweeps run on it; the real clock when absent. */
  clock?: Clock;
  /** Runs handled at once. */
  concurrency: number;
}

/** Failed attempts of one step for one run. */
export interface StepFailures {
  count: number;
  /** Epoch ms before which the step's retry policy forbids another attempt. */
  retryAt?: number;
}

/** A consumer further behind than this raises workflow_process_lag_alert (luno uses the same idea). */
const LAG_ALERT_SECONDS = 30;

/** Handles one run at this consumer's status, in a span (with tracing on); returns why it skipped, if it did. */
export function handleRun(d: StepConsumerDeps, runId: string, version: number | undefined): Promise<string | undefined> {
  const attributes = { 'capstan.workflow.name': d.spec.name, 'capstan.workflow.status': d.status, 'capstan.workflow.run_id': runId, 'capstan.workflow.shard': d.shard };
  return withSpan(`workflow step ${d.spec.name}/${d.status}`, { attributes }, async (span) => {
    const skipped = await runStep(d, runId, version);
    if (skipped) span?.setAttribute('capstan.workflow.skipped', skipped);
    return skipped;
  });
}

async function runStep(d: StepConsumerDeps, runId: string, version: number | undefined): Promise<string | undefined> {
  const process = roleName(d.spec.name, d.status, d.shard, d.process.parallel);
  const record = (version !== undefined ? d.recent?.get(runId, version, d.recentSince ?? Infinity) : undefined) ?? (await d.store.lookup(runId));
  if (!record) return 'unknown_run';
  // Idempotency: only the event for the record's current version and status may run the step.
  if (record.status !== d.status) return 'status_moved_on';
  if (version !== undefined && record.version !== version) return 'stale_version';
  if (record.runState !== 'running' && record.runState !== 'initiated') return `run_${record.runState}`;
  const key = `${process}:${runId}`;
  // An attempt earlier than the step's backoff is not made: the consumer's timer (or a later sweep) comes back for it.
  const retryAt = d.failures.get(key)?.retryAt;
  if (retryAt !== undefined && retryAt > (d.clock ?? realClock).now()) return 'backing_off';
  const started = performance.now();
  let stepDone = false;
  try {
    const run = toRun(record);
    const out = await d.process.step!(run as never);
    stepDone = true;
    if (isControl(out)) await d.transitioner.control(record, out, run.object);
    else await d.transitioner.moveTo(record, out, d.process.to, run.object);
    d.failures.delete(key);
  } catch (err) {
    if (err instanceof Conflict) return 'version_conflict';
    // The step succeeded but its outcome could not be written (the database is away): redeliver later without counting
    // an error against the run, so an outage does not pause runs whose steps are fine.
    if (stepDone && isTransient(err)) {
      d.log.warn({ err, runId, status: d.status }, 'step outcome not recorded; will retry');
      throw err;
    }
    d.metrics.errors.inc({ workflow: d.spec.name, process });
    const count = (d.failures.get(key)?.count ?? 0) + 1;
    d.log.warn({ err, runId, status: d.status, attempt: count }, 'step failed');
    if (count >= d.process.pauseAfterErrCount) {
      d.failures.delete(key);
      const latest = await d.store.lookup(runId);
      if (latest && latest.version === record.version) await d.transitioner.setRunState(latest, 'paused', `${ERROR_PAUSE_PREFIX} ${count} failed attempts at '${d.status}': ${(err as Error).message}`);
      return undefined;
    }
    // A step with a retry policy waits its backoff (the DAG steps' policy: the first delay, doubled after each
    // failure), counted from now; the event is done with. Without one, the bus redelivers the event soon.
    const policy = d.process.retry;
    if (!policy) {
      d.failures.set(key, { count });
      throw err;
    }
    const delay = nextRetryDelayMs({ attempts: d.process.pauseAfterErrCount, backoffMs: policy.backoffMs }, count)!;
    d.failures.set(key, { count, retryAt: (d.clock ?? realClock).now() + delay });
    d.retryLater?.(runId, record.version);
    return undefined;
  } finally {
    d.metrics.latency.observe({ workflow: d.spec.name, process }, (performance.now() - started) / 1000);
  }
  return undefined;
}

/** Runs the consumer while `signal` is live (the role's lease is held). */
export async function runStepConsumer(d: StepConsumerDeps, signal: AbortSignal): Promise<void> {
  const process = roleName(d.spec.name, d.status, d.shard, d.process.parallel);
  const labels = { workflow: d.spec.name, process };
  const mine = (runId: string) => shardOf(runId, d.process.parallel) === d.shard;
  d.metrics.processStates.set({ ...labels, state: 'running' }, 1);
  // The event path and the sweep both reach a run; a run already in hand here is left to that call, so one
  // instance never runs a step twice at once (the duplicate would only lose the CAS after its side effect).
  const inHand = new Map<string, Promise<unknown>>();
  // Retries a step's backoff put off, one timer per run, cleared when the role is lost (a sweep takes over then).
  const clock = d.clock ?? realClock;
  const retries = new Map<string, Timer>();
  const retryLater = (runId: string, version: number) => {
    const at = d.failures.get(`${process}:${runId}`)?.retryAt;
    if (at === undefined || signal.aborted) return;
    retries.get(runId)?.cancel();
    retries.set(
      runId,
      clock.setTimeout(
        () => {
          retries.delete(runId);
          void handleOnce(runId, version)
            .then((skipped) => skipped === 'backing_off' && retryLater(runId, version))
            .catch((err) => d.log.warn({ err, runId }, 'step retry failed'));
        },
        Math.max(1, at - clock.now()),
      ),
    );
  };
  // Taken now, in the tenure (the lease is held): runs this process wrote before it were maybe moved on elsewhere since.
  const withRetries: StepConsumerDeps = { ...d, retryLater, recentSince: d.recent?.mark() };
  const handleOnce = async (runId: string, version: number | undefined): Promise<string | undefined> => {
    if (inHand.has(runId)) return 'in_flight';
    const handling = handleRun(withRetries, runId, version);
    inHand.set(runId, handling.catch(() => {}));
    try {
      return await handling;
    } finally {
      inHand.delete(runId);
    }
  };
  // The subject carries workflow and status, so NATS hands this consumer only its own status's events.
  const pattern = RunStatusChanged.subject(statusRoute(d.spec.name, d.status));
  // A durable left by an older version with another subject is replaced: these events are only hints, the sweep
  // re-reads the store for anything a consumer did not see.
  const sub = await d.bus.durable({ name: process, pattern, start: 'new', ackWaitMs: 30_000, concurrency: d.concurrency, onPatternChange: 'replace' }, RunStatusChanged.handler(async (e) => {
    const data = e.data;
    if (data.workflow !== d.spec.name || data.status !== d.status || !mine(data.runId)) return;
    const lag = Math.max(0, (clock.now() - Date.parse(e.time)) / 1000);
    d.metrics.lag.set(labels, lag);
    d.metrics.lagAlert.set(labels, lag > LAG_ALERT_SECONDS ? 1 : 0);
    const skipped = await handleOnce(data.runId, data.version);
    if (skipped) d.metrics.skipped.inc({ ...labels, reason: skipped });
  }, ignoreMalformed(d.log)));
  // The sweep catches runs whose event this consumer never saw (created before it started, or lost).
  // A sweep through a backlog can outlast the interval; a tick while one runs is skipped rather than starting a
  // second sweep over the same runs (overlapping sweeps ran each waiting step several times over).
  let sweeping: Promise<void> | undefined;
  const sweep = () =>
    (sweeping ??= (async () => {
      for (const r of await d.store.runsAt(d.spec.name, d.status, 500)) {
        if (signal.aborted) return;
        if (mine(r.runId)) await handleOnce(r.runId, r.version).catch(() => {});
      }
    })().finally(() => (sweeping = undefined)));
  const timer = clock.setInterval(() => void sweep().catch((err) => d.log.warn({ err }, 'sweep failed')), d.sweepIntervalMs);
  try {
    await sweep().catch((err) => d.log.warn({ err }, 'sweep failed'));
    await untilAborted(signal);
  } finally {
    timer.cancel();
    for (const t of retries.values()) t.cancel();
    await sub.unsubscribe();
    // Steps already running finish before the role is released, so the shard's next holder (which gets their events
    // again) finds them moved on instead of running them a second time alongside.
    await Promise.all([...inHand.values(), sweeping?.catch(() => {})]);
    d.metrics.processStates.set({ ...labels, state: 'running' }, 0);
  }
}
