/**
 * Renders a compiled graph as Mermaid `stateDiagram-v2` text. A state machine shows its statuses: `[*] --> start`,
 * one line per edge labeled by kind (callback, timeout <after>, http, action ok|error, command), terminal -> `[*]`.
 * A DAG shows its steps (the structure its author wrote): roots from `[*]`, one line per need, leaves to `[*]`,
 * each step described by its call and its stage status, conditions as notes.
 */
import { formatDuration } from '../../../kernel/index.ts';
import type { EdgeKind, GraphEdge, WorkflowGraph } from './graph.ts';

// Words Mermaid's state-diagram lexer treats as keywords; a state with such a name gets an alias.
const RESERVED = new Set(['default', 'state', 'note', 'class', 'classdef', 'scale', 'direction', 'hide', 'end', 'style', 'acctitle', 'accdescr', 'click']);

const ENTITIES: Record<string, string> = { '#': '#35;', ':': '#58;', ';': '#59;' };

/** Makes label text safe for one Mermaid line (no ':' ';' '#' or line breaks, which end or split a label). */
export function mermaidText(s: string): string {
  // One pass, so the ';' of an inserted entity is never escaped again.
  return s.replace(/[#:;\r\n]/g, (c) => ENTITIES[c] ?? ' ');
}

/** Assigns Mermaid ids: the name itself when the lexer accepts it, otherwise a declared alias. */
function idMap(names: readonly string[]): { id: (name: string) => string; declarations: string[] } {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  const declarations: string[] = [];
  for (const n of names) {
    if (/^[A-Za-z][A-Za-z0-9_]*$/.test(n) && !RESERVED.has(n.toLowerCase()) && !used.has(n)) {
      ids.set(n, n);
      used.add(n);
    }
  }
  for (const n of names) {
    if (ids.has(n)) continue;
    const base = `s_${n.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
    ids.set(n, id);
    used.add(id);
    declarations.push(`state "${n}" as ${id}`);
  }
  return { id: (name) => ids.get(name) ?? name, declarations };
}

/** The label of an edge of a state machine (also drawn by the console's diagrams). */
export function edgeLabel(graph: WorkflowGraph, e: GraphEdge): string {
  const labels: Record<EdgeKind, string> = {
    callback: 'callback',
    timeout: 'timeout',
    http: 'http',
    'action-ok': 'action ok',
    'action-error': 'action error',
    command: 'command',
    'stage-ok': 'ok',
    'stage-error': 'error',
  };
  const after = graph.states[e.from]?.timeout?.afterMs;
  return e.kind === 'timeout' && after !== undefined ? `timeout ${formatDuration(after)}` : labels[e.kind];
}

/** Mermaid text of a DAG's steps. */
function dagMermaid(graph: WorkflowGraph): string[] {
  const dag = graph.dag!;
  const { id, declarations } = idMap(dag.order);
  const lines = [...declarations];
  const hasDependents = new Set(dag.order.flatMap((s) => dag.steps[s]!.needs));
  for (const s of dag.order) {
    const step = dag.steps[s]!;
    const call = step.call.kind === 'action' ? `action ${step.call.name}` : `http ${step.call.http.method}`;
    lines.push(`${id(s)}: ${mermaidText(`${call} (${step.status})`)}`);
  }
  for (const s of dag.order) {
    const step = dag.steps[s]!;
    if (step.needs.length === 0) lines.push(`[*] --> ${id(s)}`);
    for (const n of step.needs) lines.push(`${id(n)} --> ${id(s)}`);
    if (step.when) lines.push(`note right of ${id(s)}: ${mermaidText(`when ${step.when.source}`)}`);
  }
  for (const s of dag.order) if (!hasDependents.has(s)) lines.push(`${id(s)} --> [*]`);
  return lines;
}

/** Mermaid `stateDiagram-v2` text of a compiled workflow. */
export function toMermaid(graph: WorkflowGraph): string {
  let body: string[];
  if (graph.kind === 'dag' && graph.dag) {
    body = dagMermaid(graph);
  } else {
    const names = Object.keys(graph.states);
    const { id, declarations } = idMap(names);
    body = [...declarations, `[*] --> ${id(graph.start)}`];
    for (const e of graph.edges) body.push(`${id(e.from)} --> ${id(e.to)}: ${mermaidText(edgeLabel(graph, e))}`);
    for (const t of graph.terminals) body.push(`${id(t)} --> [*]`);
  }
  return ['stateDiagram-v2', ...body.map((l) => `    ${l}`)].join('\n') + '\n';
}
