/** The state of each step of a DAG run, read from the run's object (`steps.<id>.status`) and its current stage. */
import type { WorkflowGraph } from '../definition/index.ts';

/** What the step graph colours. */
export const STEP_STATES = ['pending', 'running', 'done', 'failed', 'skipped'] as const;
/** A step's state in a run. */
export type StepState = (typeof STEP_STATES)[number];

const RECORDED: Record<string, StepState> = { completed: 'done', failed: 'failed', skipped: 'skipped' };

/** The step's record status in the run object, if the object holds a well-formed one. */
function recorded(object: unknown, id: string): StepState | undefined {
  if (typeof object !== 'object' || object === null) return undefined;
  const steps = (object as { steps?: unknown }).steps;
  if (typeof steps !== 'object' || steps === null || !Object.hasOwn(steps, id)) return undefined;
  const status = (steps as Record<string, { status?: unknown } | null>)[id]?.status;
  return typeof status === 'string' && Object.hasOwn(RECORDED, status) ? RECORDED[status] : undefined;
}

/**
 * Each step's state: its recorded result (done, failed, skipped); else `running` when it belongs to the stage an
 * active, unpaused run is at (in flight or about to start); else `pending` (not reached, or never run).
 */
export function dagStepStates(graph: WorkflowGraph, run: { status: string; runState: string; object: unknown }): Record<string, StepState> {
  const out: Record<string, StepState> = Object.create(null);
  const dag = graph.dag;
  if (!dag) return out;
  const work = Object.hasOwn(graph.states, run.status) ? graph.states[run.status]?.work : undefined;
  const stage = work?.kind === 'dag-stage' ? work.stage : undefined;
  const moving = run.runState === 'running' || run.runState === 'initiated';
  for (const id of dag.order) out[id] = recorded(run.object, id) ?? (moving && dag.steps[id]!.stage === stage ? 'running' : 'pending');
  return out;
}
