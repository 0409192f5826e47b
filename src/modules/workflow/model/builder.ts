/** The typed, code-defined workflow builder: defineWorkflow<Obj, Status>(name).step(...).callback(...).timeout(...).build(). */
import { Invalid, parseSchedule, type RetryPolicy } from '../../../kernel/index.ts';
import type { Run, StepControl } from './run.ts';

/** A step: receives the run, returns the next status (one of the allowed destinations) or a control. */
export type StepFn<Obj, Status extends string> = (run: Run<Obj, Status>) => Promise<Status | StepControl> | Status | StepControl;

/** A callback: receives the run and the external body, returns the next status or a control. */
export type CallbackFn<Obj, Status extends string> = (run: Run<Obj, Status>, body: { status?: string; object?: unknown }) => Promise<Status | StepControl> | Status | StepControl;

/** A connector: maps an event from a bus subject to a trigger or a callback. */
export interface ConnectorSpec {
  name: string;
  /** Bus pattern to consume, e.g. `payments.payment.settled`; undefined = reached through the webhook route only. */
  source?: string;
  fn: (event: { type: string; data: unknown; id: string }) => Promise<ConnectorAction | undefined> | ConnectorAction | undefined;
  /** Consumer shards sharing the connector's durable (each a lease-held role); default 1. */
  parallel?: number;
}

/** What a connector asks for. */
export type ConnectorAction = { trigger: { foreignId: string; object?: unknown } } | { callback: { foreignId: string; status: string; body: { status?: string; object?: unknown } } };

/** A cron trigger: at each slot, start a run for `foreignId` unless one is active. */
export interface ScheduleSpec {
  name: string;
  cron: string;
  /** IANA time zone the cron is read in (daylight saving included); absent means UTC. */
  timezone?: string;
  foreignId: string;
  object?: unknown;
  /** Per-slot foreign id and object (e.g. one run per night); when set, it replaces `foreignId` and `object`. */
  render?: (at: Date) => { foreignId: string; object?: unknown };
}

/** How one status is processed. */
export interface StatusProcess<Obj = unknown, Status extends string = string> {
  kind: 'step' | 'callback';
  to: Status[];
  step?: StepFn<Obj, Status>;
  callback?: CallbackFn<Obj, Status>;
  /** Consumer shards for this step (`parallel: n`). */
  parallel: number;
  /** Runs one shard's consumer works on at once; default: the module's `stepConcurrency`. */
  concurrency?: number;
  timeout?: { afterMs: number; to: Status[]; fn: StepFn<Obj, Status> };
  /** Retries before the run is paused; keyed on (process, run), never on error text. */
  pauseAfterErrCount: number;
  /** Spacing of the step's attempts (`backoffMs`, doubled after each failure); without it the bus redelivers within 100 ms to 5 s. */
  retry?: RetryPolicy;
}

/** A built workflow, ready to register with the engine. */
export interface WorkflowSpec<Obj = unknown, Status extends string = string> {
  name: string;
  start: Status;
  processes: Map<Status, StatusProcess<Obj, Status>>;
  connectors: ConnectorSpec[];
  schedules: ScheduleSpec[];
  onComplete?: (run: Run<Obj, Status>) => Promise<void> | void;
  /** Statuses with no outgoing edge. */
  terminal: Set<Status>;
  /** Every status named anywhere. */
  statuses: Set<Status>;
  /** Turns the trigger's object into the run's first object (DAGs wrap their input); may throw Invalid. */
  prepareObject?: (input: unknown) => unknown;
}

/** A workflow spec of any object and status types, as the engine and the module accept it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyWorkflowSpec = WorkflowSpec<any, any>;

/** Per-step options. */
export interface StepOptions {
  parallel?: number;
  /** Runs one consumer shard steps at once (default: the module's `stepConcurrency`). */
  concurrency?: number;
  pauseAfterErrCount?: number;
  /** Attempts in all (the run is paused after them, unless pauseAfterErrCount says otherwise) and the first delay between them. */
  retry?: RetryPolicy;
}

/** Builder; the first step or callback's `from` is the start status unless `start()` says otherwise. */
export class WorkflowBuilder<Obj, Status extends string> {
  private readonly processes = new Map<Status, StatusProcess<Obj, Status>>();
  private readonly connectors: ConnectorSpec[] = [];
  private readonly schedules: ScheduleSpec[] = [];
  private startStatus?: Status;
  private completeFn?: (run: Run<Obj, Status>) => Promise<void> | void;

  constructor(private readonly name: string) {}

  /** Sets the start status explicitly. */
  start(status: Status): this {
    this.startStatus = status;
    return this;
  }

  /** Adds a step run when a run enters `from`; it may move to any of `to`. */
  step(from: Status, fn: StepFn<Obj, Status>, ...to: (Status | StepOptions)[]): this {
    const { statuses, opts } = splitOptions(to);
    this.add(from, {
      kind: 'step',
      to: statuses,
      step: fn,
      parallel: opts.parallel ?? 1,
      pauseAfterErrCount: opts.pauseAfterErrCount ?? opts.retry?.attempts ?? 5,
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
      ...(opts.retry ? { retry: opts.retry } : {}),
    });
    return this;
  }

  /** Waits at `from` for an external callback whose result picks one of `to`. */
  callback(from: Status, fn: CallbackFn<Obj, Status>, ...to: Status[]): this {
    this.add(from, { kind: 'callback', to, callback: fn, parallel: 1, pauseAfterErrCount: 5 });
    return this;
  }

  /** Fires `fn` after `afterMs` at `from` unless the run moved on. */
  timeout(from: Status, afterMs: number, fn: StepFn<Obj, Status>, ...to: Status[]): this {
    const p = this.processes.get(from) ?? { kind: 'callback' as const, to: [], parallel: 1, pauseAfterErrCount: 5 };
    if (p.timeout) throw new Invalid(`workflow '${this.name}': status '${from}' already has a timeout`, [{ path: `states.${from}.timeout`, message: 'duplicate timeout' }]);
    p.timeout = { afterMs, to, fn };
    this.processes.set(from, p);
    this.startStatus ??= from;
    return this;
  }

  /** Consumes a bus subject and triggers or calls back runs. */
  connector(name: string, source: string, fn: ConnectorSpec['fn'], opts: { parallel?: number } = {}): this {
    this.connectors.push({ name, source, fn, ...(opts.parallel !== undefined ? { parallel: opts.parallel } : {}) });
    return this;
  }

  /**
   * Triggers a run on a cron schedule (`0 9 * * MON-FRI`, `@hourly`; optional seconds field) read in `opts.timezone`
   * (IANA name, default UTC); a slot is skipped while the foreign id has an active run.
   */
  schedule(name: string, cron: string, run: { foreignId: string; object?: unknown }, opts: { timezone?: string } = {}): this {
    parseSchedule(cron, { timezone: opts.timezone, path: `schedules.${name}.cron` });
    this.schedules.push({ name, cron, ...(opts.timezone !== undefined ? { timezone: opts.timezone } : {}), ...run });
    return this;
  }

  /** Runs once when a run reaches a terminal status. */
  onComplete(fn: (run: Run<Obj, Status>) => Promise<void> | void): this {
    this.completeFn = fn;
    return this;
  }

  /** Checks the graph and returns the spec. */
  build(): WorkflowSpec<Obj, Status> {
    if (!this.startStatus) throw new Invalid(`workflow '${this.name}' has no steps`, [{ path: 'steps', message: 'add at least one step or callback' }]);
    const statuses = new Set<Status>([this.startStatus]);
    for (const [from, p] of this.processes) {
      statuses.add(from);
      for (const t of [...p.to, ...(p.timeout?.to ?? [])]) statuses.add(t);
    }
    const terminal = new Set([...statuses].filter((s) => !this.processes.has(s)));
    if (terminal.size === 0) throw new Invalid(`workflow '${this.name}' has no terminal status`, [{ path: 'states', message: 'no status without outgoing edges' }]);
    return { name: this.name, start: this.startStatus, processes: this.processes, connectors: this.connectors, schedules: this.schedules, onComplete: this.completeFn, terminal, statuses };
  }

  private add(from: Status, p: StatusProcess<Obj, Status>): void {
    const existing = this.processes.get(from);
    if (existing && (existing.step || existing.callback)) throw new Invalid(`workflow '${this.name}': status '${from}' already has a step`, [{ path: `states.${from}`, message: 'duplicate step' }]);
    if (existing?.timeout) p.timeout = existing.timeout;
    this.processes.set(from, p);
    this.startStatus ??= from;
  }
}

function splitOptions<S>(items: (S | StepOptions)[]): { statuses: S[]; opts: StepOptions } {
  const statuses: S[] = [];
  let opts: StepOptions = {};
  for (const i of items) {
    if (typeof i === 'object' && i !== null) opts = { ...opts, ...(i as StepOptions) };
    else statuses.push(i as S);
  }
  return { statuses, opts };
}

/** Starts a typed workflow definition. */
export function defineWorkflow<Obj, Status extends string>(name: string): WorkflowBuilder<Obj, Status> {
  return new WorkflowBuilder<Obj, Status>(name);
}
