/**
 * What the runtime does while a DAG run sits at a `stage-k` status, as pure functions over the run's object.
 *
 * Runtime loop at a stage status (each arrow is one version-checked transaction):
 * 1. plan = planDagStage(graph, status, object, run).
 * 2. Record every `plan.skip` step as `{ status: 'skipped' }`; if `plan.next` is set, move the run to it in the same
 *    transaction. Done.
 * 3. Otherwise start each `plan.run` step not already in flight (idempotent job per (runId, stepId)): render
 *    `step.input` with interpolate(step.input, dagScope(object, run)), call the action or http with `timeoutMs`
 *    per attempt, retry per `step.retry` (nextRetryDelayMs), then save `{ status: 'completed', output }` or
 *    `{ status: 'failed', error }` under `steps.<id>` while staying at the same status, and go to 1.
 * Skips: a step whose `when` is false is skipped; a step without `when` is skipped when any of its needs was
 * skipped (so a branch switched off stays off). A step with a `when` decides for itself and may test
 * `steps.<id>.status == 'skipped'`, which makes if/else joins possible.
 * A failed step sends the run to `failed` as soon as it is recorded; steps still in flight may finish but their
 * results are dropped by the version check, since the run has left the stage.
 */
import { evaluateCondition, Invalid, type RefScope } from '../../../kernel/index.ts';
import type { WorkflowGraph } from './graph.ts';
import { stateOf } from './graph-queries.ts';
import { checkInput } from './input-schema.ts';

/** The result of one step, kept in the run's object under `steps.<id>`. */
export interface DagStepRecord {
  status: 'completed' | 'skipped' | 'failed';
  output?: unknown;
  error?: string;
  attempts?: number;
}

/** The object of a DAG run: the trigger's input and every settled step's result. */
export interface DagRunObject {
  input: unknown;
  steps: Record<string, DagStepRecord>;
}

/** Facts about the run that templates may read as `run.<field>`. */
export interface RunInfo {
  id: string;
  foreignId: string;
  workflow: string;
  status: string;
}

/** What to do next at a stage: steps to record as skipped, steps to run, and the status to move to once settled. */
export interface DagStagePlan {
  skip: string[];
  run: string[];
  /** Set when nothing is left to run at this stage (after recording `skip`). */
  next?: string;
}

/** The object a new DAG run starts with; throws Invalid (paths `object.<field>`) when the input breaks the schema. */
export function initialDagObject(graph: WorkflowGraph, input: unknown): DagRunObject {
  const schema = graph.dag?.input;
  const value = input === undefined ? {} : input;
  if (schema) {
    const issues = checkInput(schema, value, 'object');
    if (issues.length > 0) throw new Invalid(`input of workflow '${graph.name}' is invalid`, issues);
  }
  return { input: value, steps: {} };
}

/** The scope templates and conditions of a DAG step are rendered against. */
export function dagScope(object: DagRunObject, run?: RunInfo): RefScope {
  return { input: object.input, steps: object.steps, run };
}

/** The own record of a step, ignoring anything inherited. */
function recordOf(object: DagRunObject, id: string): DagStepRecord | undefined {
  return Object.hasOwn(object.steps, id) ? object.steps[id] : undefined;
}

/** Decides which steps of the stage at `status` to skip or run, and where the run goes once all are settled. */
export function planDagStage(graph: WorkflowGraph, status: string, object: DagRunObject, run?: RunInfo): DagStagePlan {
  const work = stateOf(graph, status)?.work;
  const dag = graph.dag;
  if (!dag || work?.kind !== 'dag-stage') throw new Invalid(`status '${status}' is not a stage of DAG workflow '${graph.name}'`);
  if (work.steps.some((id) => recordOf(object, id)?.status === 'failed')) return { skip: [], run: [], next: work.error };
  const scope = dagScope(object, run);
  const skip: string[] = [];
  const toRun: string[] = [];
  for (const id of work.steps) {
    if (recordOf(object, id)) continue;
    const step = dag.steps[id]!;
    const needRecords = step.needs.map((n) => recordOf(object, n));
    // Needs settle in earlier stages; a missing one means the object was edited by hand: wait rather than guess.
    if (needRecords.some((r) => r === undefined)) continue;
    const runIt = step.when ? evaluateCondition(step.when, scope) : needRecords.every((r) => r!.status !== 'skipped');
    (runIt ? toRun : skip).push(id);
  }
  return toRun.length === 0 && work.steps.every((id) => recordOf(object, id) || skip.includes(id))
    ? { skip, run: [], next: work.ok }
    : { skip, run: toRun };
}
