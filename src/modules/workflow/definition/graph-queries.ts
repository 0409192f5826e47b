/** Safe lookups on a compiled graph for the runtime. */
import type { EdgeKind, GraphState, WorkflowGraph } from './graph.ts';

/** The state named `status`, or undefined (own keys only, so 'constructor' and friends never match). */
export function stateOf(graph: WorkflowGraph, status: string): GraphState | undefined {
  return Object.hasOwn(graph.states, status) ? graph.states[status] : undefined;
}

/** True when `status` is a terminal status of the graph. */
export function isTerminal(graph: WorkflowGraph, status: string): boolean {
  return stateOf(graph, status)?.terminal === true;
}

/** Statuses a run at `from` may move to, optionally only through edges of the given kinds. */
export function allowedNext(graph: WorkflowGraph, from: string, kinds?: readonly EdgeKind[]): string[] {
  const out = graph.edges.filter((e) => e.from === from && (!kinds || kinds.includes(e.kind))).map((e) => e.to);
  return [...new Set(out)];
}
