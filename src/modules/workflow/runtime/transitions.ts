/**
 * Moving a run: the one place that turns a step's outcome into a CAS transition with its events and timeouts. Values
 * that cannot be stored (a step's object, an http step's answer) are refused by the store, as Invalid naming the field.
 */
import { Invalid, realClock, subjectToken, type Clock, type Logger, type OutboxEvent } from '../../../kernel/index.ts';
import type { WorkflowSpec } from '../model/builder.ts';
import { toRun, type RunRecord, type RunState, type StepControl } from '../model/run.ts';
import { assertRunStateTransition } from '../model/run-state.ts';
import type { RunPatch, TimeoutPlan, WorkflowStorePort } from '../store/index.ts';
import type { WorkflowMetrics } from './metrics.ts';
import { RunCancelled, RunCompleted, RunPaused, RunStatusChanged } from '../model/events.ts';
import type { RecentRuns } from './recent-runs.ts';

/** The fields every run event carries. */
function summary(r: RunRecord) {
  return { runId: r.runId, workflow: r.workflow, foreignId: r.foreignId, status: r.status, runState: r.runState, version: r.version };
}

/**
 * The routing tokens of a run's status_changed event: its subject is `workflow.run.status_changed.<workflow>.<status>`,
 * so each step's consumer receives only the events of its own status (filtered by NATS, not in the handler).
 */
export function statusRoute(workflow: string, status: string): string[] {
  return [subjectToken(workflow), subjectToken(status)];
}

/** Events for a run after a change: always status_changed, plus completed/paused/cancelled when the run state says so. */
export function eventsFor(after: RunRecord, before?: RunRecord): OutboxEvent[] {
  const events: OutboxEvent[] = [RunStatusChanged.outbox({ ...summary(after), previousStatus: before?.status ?? null }, { route: statusRoute(after.workflow, after.status) })];
  if (after.runState !== before?.runState) {
    if (after.runState === 'completed') events.push(RunCompleted.outbox(summary(after)));
    if (after.runState === 'paused') events.push(RunPaused.outbox({ ...summary(after), reason: after.reason ?? null }));
    if (after.runState === 'cancelled') events.push(RunCancelled.outbox({ ...summary(after), reason: after.reason ?? null }));
  }
  return events;
}

/** Applies transitions for one workflow. */
export class Transitioner {
  constructor(
    private readonly store: WorkflowStorePort,
    private readonly spec: WorkflowSpec,
    private readonly log: Logger,
    private readonly metrics?: WorkflowMetrics,
    private readonly recent?: RecentRuns,
    private readonly clock: Clock = realClock,
  ) {}

  /** Counts a run-state change and remembers the run as written (every write goes through this class, so this is the one place). */
  private counted(before: RunRecord, after: RunRecord): RunRecord {
    if (before.runState !== after.runState) this.metrics?.runStateChanges.inc({ workflow: after.workflow, from: before.runState, to: after.runState });
    this.recent?.put(after);
    return after;
  }

  /**
   * Timeout work for a change from `current` to `after`: cancel what the old status armed, arm the new status's
   * timeout while running. Most statuses have no timeout, and then the statement touches no timeout row at all.
   */
  private timeoutPlan(current: RunRecord, after: { status: string; runState: RunState }): TimeoutPlan {
    const t = after.runState === 'running' ? this.spec.processes.get(after.status)?.timeout : undefined;
    const armed = this.spec.processes.get(current.status)?.timeout !== undefined;
    const plan: TimeoutPlan = { cancel: armed || t !== undefined };
    if (t) plan.armAt = new Date(this.clock.now() + t.afterMs);
    return plan;
  }

  /** Moves a run from its current record to `next`, checking `allowed` destinations; a terminal status completes the run. */
  async moveTo(current: RunRecord, next: string, allowed: string[], object: unknown, description?: string): Promise<RunRecord> {
    if (!allowed.includes(next)) throw new Invalid(`'${next}' is not a destination of '${current.status}' (allowed: ${allowed.join(', ') || 'none'})`, [{ path: 'status', message: `one of ${allowed.join(', ')}` }]);
    const runState: RunState = this.spec.terminal.has(next) ? 'completed' : 'running';
    assertRunStateTransition(current.runState, runState);
    const after = this.counted(current, await this.store.move(current, { status: next, runState, object, statusDescription: description ?? null, reason: null }, (a) => eventsFor(a, current), this.timeoutPlan(current, { status: next, runState })));
    // onComplete is best effort: the run is complete whatever it does.
    if (after.runState === 'completed' && this.spec.onComplete) {
      Promise.resolve()
        .then(() => this.spec.onComplete!(toRun(after) as never))
        .catch((err) => this.log.warn({ err, runId: after.runId }, 'onComplete failed'));
    }
    return after;
  }

  /** Applies a control returned by a step or requested through the API. */
  async control(current: RunRecord, c: StepControl, object: unknown): Promise<RunRecord | undefined> {
    switch (c.control) {
      case 'skip':
        return undefined;
      case 'saveAndRepeat':
        // Same status, new version: the status_changed event makes the step run again.
        return this.counted(current, await this.store.move(current, { object }, (after) => eventsFor(after, current), { cancel: false }));
      case 'pause':
        return this.setRunState(current, 'paused', c.reason, object);
      case 'cancel':
        return this.setRunState(current, 'cancelled', c.reason, object);
    }
  }

  /** Changes only the run state (pause, resume, cancel), keeping the status. */
  async setRunState(current: RunRecord, runState: RunState, reason: string | null, object?: unknown): Promise<RunRecord> {
    assertRunStateTransition(current.runState, runState);
    const patch: RunPatch = { runState, reason };
    if (object !== undefined) patch.object = object;
    // Only running runs have live timeouts; resuming re-arms the status's timeout from now.
    const after = await this.store.move(current, patch, (a) => eventsFor(a, current), this.timeoutPlan(current, { status: current.status, runState }));
    return this.counted(current, after);
  }

  /** When the timeout of a new run starting (running) at `status` expires, if that status has one. */
  initialTimeoutAt(status: string): Date | undefined {
    const t = this.spec.processes.get(status)?.timeout;
    return t ? new Date(this.clock.now() + t.afterMs) : undefined;
  }
}
