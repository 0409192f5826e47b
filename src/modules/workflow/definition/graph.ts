/**
 * The normalized form both definition kinds compile to, and the only thing the durable runtime reads.
 *
 * A run is always at exactly one status (a key of `states`). What the runtime does at a status:
 * - `work.kind === 'http'`: POST `{ runId, foreignId, workflow, status, object }` to the rendered url (headers rendered,
 *   `timeoutMs` per call); a 2xx JSON response `{ status, object? }` moves the run to `status`, which must be in `to`.
 * - `work.kind === 'action'`: call the action with the rendered input (scope: object, run); success -> `ok` (the
 *   action's result may replace the object, the runtime decides), failure after retries -> `error` when present.
 * - `work.kind === 'command'`: run argv (each element rendered with interpolateText, never a shell); stdout's last
 *   line `{ status, object? }` picks among `to`. Off unless enabled in config.
 * - `work.kind === 'dag-stage'`: see dag-progress.ts (planDagStage tells which steps to run or skip, and when to move on).
 * - `callback`: an external POST `{ status, object? }` to .../callback/{this status} moves the run; `status` must be in `to`.
 * - `timeout`: after `afterMs` in this status the run moves to `to` (a stored timer row, fired by a poller).
 * A failing `work` is retried by `retry` (see retry-policy.ts); when attempts run out and there is no error edge,
 * the failure is counted per (process, run) and the run is paused once `pauseAfterErrCount` is reached.
 * A status with no outgoing edge is terminal: reaching it completes the run.
 * `parallel` is the number of consumer shards for the status' work (role `{wf}-{status}-consumer-{i}-of-{n}`, bounded in names.ts).
 */
import { type Condition, type RetryPolicy } from '../../../kernel/index.ts';
import type { InputSchemaLite } from './input-schema.ts';

/** A JSON value that may hold `{{ path }}` strings (see the kernel's expressions). */
export type JsonTemplate = unknown;

/** An HTTP call; url and header values are templates rendered with interpolateText. */
export interface HttpCall {
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers: Record<string, string>;
  timeoutMs?: number;
}

/** A call to a registered kernel action; `input` is rendered with interpolate. */
export interface ActionCall {
  name: string;
  input?: JsonTemplate;
}

/** The automatic work of a status (at most one per status). */
export type StateWork =
  | { kind: 'http'; http: HttpCall; to: string[] }
  | { kind: 'action'; action: ActionCall; ok: string; error?: string }
  | { kind: 'command'; argv: string[]; to: string[]; timeoutMs?: number }
  | { kind: 'dag-stage'; stage: number; steps: string[]; ok: string; error: string };

/** One status of the graph. */
export interface GraphState {
  name: string;
  description?: string;
  /** No outgoing edge: reaching this status completes the run. */
  terminal: boolean;
  work?: StateWork;
  callback?: { to: string[] };
  timeout?: { afterMs: number; to: string };
  /** Consumer shards for `work`; 1 when not given. */
  parallel: number;
  retry?: RetryPolicy;
  pauseAfterErrCount?: number;
}

/** How an edge is taken; the label Mermaid shows. */
export type EdgeKind = 'callback' | 'timeout' | 'http' | 'action-ok' | 'action-error' | 'command' | 'stage-ok' | 'stage-error';

/** A possible transition. */
export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
}

/** Best-effort hook run once when a run completes (not a status; its failure does not change the run). */
export type OnComplete = { kind: 'action'; action: ActionCall } | { kind: 'http'; http: HttpCall };

/** One step of a compiled DAG. */
export interface DagStepPlan {
  id: string;
  /** Position in the definition's `steps` array. */
  index: number;
  needs: string[];
  /** Every step this one needs directly or indirectly. */
  ancestors: string[];
  /** 1-based stage; the step runs while the run is at status `status` (= `stage-<stage>`). */
  stage: number;
  status: string;
  call: { kind: 'action'; name: string } | { kind: 'http'; http: HttpCall };
  /** The action's input or the http body (scope: input, steps, run); undefined = `{}` for actions, no body for http. */
  input?: JsonTemplate;
  retry?: RetryPolicy;
  /** Limit of one attempt. */
  timeoutMs?: number;
  when?: Condition;
}

/** DAG-only data: steps, their topological order and stages. */
export interface DagPlan {
  input?: InputSchemaLite;
  steps: Record<string, DagStepPlan>;
  /** Topological order (ties keep the definition's order). */
  order: string[];
  /** stages[k] = step ids of stage k+1, in definition order. */
  stages: string[][];
  /** Terminal statuses. */
  completed: string;
  failed: string;
}

/**
 * A connector, checked: on each event from `subject` (or from its webhook), when `when` holds for `{ event }`,
 * render `trigger` or `callback` against `{ event: { type, id, data } }` (see declarative/triggers.ts).
 */
export interface GraphConnector {
  name: string;
  /** Bus subject pattern; undefined = webhook only. */
  subject?: string;
  when?: Condition;
  /** Consumer shards. */
  parallel: number;
  trigger?: { foreignId: string; object?: JsonTemplate };
  callback?: { foreignId: string; status: string; to: string; object?: JsonTemplate };
}

/** A schedule, checked: `foreignId` and `object` render against `{ schedule: { name, at } }` at each slot. */
export interface GraphSchedule {
  name: string;
  cron: string;
  /** IANA time zone the cron is read in; absent means UTC. */
  timezone?: string;
  foreignId: string;
  object?: JsonTemplate;
}

/** The compiled workflow. `states` has a null prototype and keeps declaration order; use stateOf() to read it. */
export interface WorkflowGraph {
  kind: 'state-machine' | 'dag';
  name: string;
  description?: string;
  start: string;
  states: Record<string, GraphState>;
  edges: GraphEdge[];
  /** Terminal statuses, in declaration order. */
  terminals: string[];
  onComplete?: OnComplete;
  dag?: DagPlan;
  /** Bus and webhook triggers (none when absent). */
  connectors?: GraphConnector[];
  /** Cron triggers (none when absent). */
  schedules?: GraphSchedule[];
}
