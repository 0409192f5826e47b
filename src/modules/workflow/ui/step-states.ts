/** The state of each step of a DAG run, read from the run's object (`steps.<id>.status`) and its current stage. */
import { planDagStage, type DagRunObject, type RunInfo, type WorkflowGraph } from '../definition/index.ts';

/** What the step graph colours. */
export const STEP_STATES = ['pending', 'running', 'done', 'failed', 'skipped'] as const;
/** A step's state in a run. */
export type StepState = (typeof STEP_STATES)[number];

/** The run a step graph is coloured for. */
export interface StepRun {
  status: string;
  runState: string;
  object: unknown;
  /** What `when` conditions may read as `run.*`. */
  info?: RunInfo;
}

const RECORDED: Record<string, StepState> = { completed: 'done', failed: 'failed', skipped: 'skipped' };

/** The step's record status in the run object, if the object holds a well-formed one. */
function recorded(object: unknown, id: string): StepState | undefined {
  if (typeof object !== 'object' || object === null) return undefined;
  const steps = (object as { steps?: unknown }).steps;
  if (typeof steps !== 'object' || steps === null || !Object.hasOwn(steps, id)) return undefined;
  const status = (steps as Record<string, { status?: unknown } | null>)[id]?.status;
  return typeof status === 'string' && Object.hasOwn(RECORDED, status) ? RECORDED[status] : undefined;
}

/** Steps of the current stage the runtime skips (it decides that when the stage starts, from the same object). */
function skippedNow(graph: WorkflowGraph, run: StepRun): Set<string> {
  try {
    return new Set(planDagStage(graph, run.status, run.object as DagRunObject, run.info).skip);
  } catch {
    // An object edited by hand or scrubbed: show no prediction rather than fail the page.
    return new Set();
  }
}

/**
 * Each step's state: its recorded result (done, failed, skipped). A step of the stage an active, unpaused run is at
 * is `skipped` when the runtime skips it, else `running` (the runtime saves a stage's results together when the
 * stage settles, so a step finished early still shows running until then). Anything else is `pending`.
 */
export function dagStepStates(graph: WorkflowGraph, run: StepRun): Record<string, StepState> {
  const out: Record<string, StepState> = Object.create(null);
  const dag = graph.dag;
  if (!dag) return out;
  const work = Object.hasOwn(graph.states, run.status) ? graph.states[run.status]?.work : undefined;
  const stage = work?.kind === 'dag-stage' ? work.stage : undefined;
  const moving = stage !== undefined && (run.runState === 'running' || run.runState === 'initiated');
  const skipping = moving ? skippedNow(graph, run) : new Set<string>();
  for (const id of dag.order) {
    const now = moving && dag.steps[id]!.stage === stage ? (skipping.has(id) ? 'skipped' : 'running') : 'pending';
    out[id] = recorded(run.object, id) ?? now;
  }
  return out;
}
