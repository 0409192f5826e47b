/**
 * A compiled workflow as the kernel's graph input. A state machine: its statuses (a dot for the start, a double
 * box for terminals) and transitions, parallel edges merged into one labelled edge; with a run, the statuses it
 * passed and the transitions it took are marked, and its current status carries the run state. A DAG: its steps and
 * needs, each step marked with its state in the run.
 */
import { formatDuration, type GraphEdgeInput, type GraphInput, type GraphNodeInput } from '../../../kernel/index.ts';
import { type GraphState, type WorkflowGraph } from '../definition/index.ts';
import { edgeLabel } from '../definition/mermaid.ts';
import type { StepState } from './step-states.ts';

/** Id of the start marker; no status can have it (names start with a letter). */
export const START_NODE = '[*]';

/** Where a run has been: its statuses in history order (repeats allowed), where it is, and its run state. */
export interface RunPath {
  statuses: string[];
  current: string;
  runState: string;
}

/** The automatic work or wait of a status, as its node's second line. */
function summary(s: GraphState): string | undefined {
  const w = s.work;
  if (w?.kind === 'http') return `http ${w.http.method}`;
  if (w?.kind === 'action') return `action ${w.action.name}`;
  if (w?.kind === 'command') return 'command';
  if (w?.kind === 'dag-stage') return `${w.steps.length} step${w.steps.length === 1 ? '' : 's'}`;
  if (s.callback) return 'callback';
  if (s.timeout) return `timeout ${formatDuration(s.timeout.afterMs)}`;
  return undefined;
}

/** The transitions a run took: consecutive distinct statuses of its history, as `from\u0000to` keys. */
function taken(path: RunPath | undefined): Set<string> {
  const out = new Set<string>();
  if (!path) return out;
  const [first] = path.statuses;
  if (first !== undefined) out.add(`${START_NODE}\u0000${first}`);
  for (let i = 1; i < path.statuses.length; i++) if (path.statuses[i] !== path.statuses[i - 1]) out.add(`${path.statuses[i - 1]}\u0000${path.statuses[i]}`);
  return out;
}

/** A state machine's statuses and transitions; `run` marks its path and current status. */
export function stateMachineInput(graph: WorkflowGraph, run?: RunPath): GraphInput {
  const visited = new Set(run?.statuses ?? []);
  if (run) visited.add(run.current);
  const path = taken(run);
  const nodes: GraphNodeInput[] = [{ id: START_NODE, label: 'start', shape: 'dot', className: path.has(`${START_NODE}\u0000${graph.start}`) ? 'start visited' : 'start' }];
  for (const s of Object.values(graph.states)) {
    const classes = ['wf-status', s.terminal ? 'terminal' : '', visited.has(s.name) ? 'visited' : '', run?.current === s.name ? `current run-${run.runState}` : ''];
    nodes.push({ id: s.name, label: s.name, sublabel: summary(s), title: s.description, shape: s.terminal ? 'double' : 'box', className: classes.join(' ') });
  }
  // One drawn edge per pair of statuses, listing every way it is taken (callback, timeout 5m, ...).
  const merged = new Map<string, { from: string; to: string; labels: string[] }>();
  for (const e of graph.edges) {
    const key = `${e.from}\u0000${e.to}`;
    const m = merged.get(key) ?? merged.set(key, { from: e.from, to: e.to, labels: [] }).get(key)!;
    const label = edgeLabel(graph, e);
    if (!m.labels.includes(label)) m.labels.push(label);
  }
  const edges: GraphEdgeInput[] = [{ from: START_NODE, to: graph.start, className: path.has(`${START_NODE}\u0000${graph.start}`) ? 'taken' : undefined }];
  for (const [key, m] of merged) edges.push({ from: m.from, to: m.to, label: m.labels.join(', '), className: path.has(key) ? 'taken' : undefined });
  return { nodes, edges };
}

/** A DAG's steps and needs; `states` (from a run) colours each step. */
export function dagInput(graph: WorkflowGraph, states?: Record<string, StepState>): GraphInput {
  const dag = graph.dag;
  if (!dag) throw new Error(`workflow '${graph.name}' is not a DAG`);
  const nodes: GraphNodeInput[] = dag.order.map((id) => {
    const step = dag.steps[id]!;
    const call = step.call.kind === 'action' ? `action ${step.call.name}` : `http ${step.call.http.method}`;
    const state = states?.[id];
    const title = [state ? `state: ${state}` : '', `stage ${step.stage}`, step.when ? `when ${step.when.source}` : ''].filter(Boolean).join('\n');
    return { id, label: id, sublabel: call, title, className: ['wf-step', step.when ? 'conditional' : '', state ? `step-${state}` : ''].join(' ') };
  });
  const edges: GraphEdgeInput[] = dag.order.flatMap((id) => dag.steps[id]!.needs.map((need) => ({ from: need, to: id })));
  return { nodes, edges };
}
