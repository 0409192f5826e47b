/** Whole-graph checks of a state machine: every state reachable, some terminal state, and no dead ends. */
import type { FieldIssue } from '../../../kernel/index.ts';

/** States reachable from `from` following edges forwards (or backwards with `reverse`). */
function reach(from: string[], edges: readonly { from: string; to: string }[], reverse = false): Set<string> {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = reverse ? [e.to, e.from] : [e.from, e.to];
    next.set(a, [...(next.get(a) ?? []), b]);
  }
  const seen = new Set(from);
  const queue = [...from];
  while (queue.length > 0) {
    for (const n of next.get(queue.pop()!) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen;
}

/**
 * Issues for unreachable states, a graph with no terminal state, and states from which no terminal state can be
 * reached (a run there could never complete). Edges must only name existing states; `terminals` are the states
 * that declare no edge at all.
 */
export function graphIssues(
  start: string,
  names: readonly string[],
  edges: readonly { from: string; to: string }[],
  terminals: readonly string[],
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const reachable = reach([start], edges);
  for (const n of names) {
    if (!reachable.has(n)) issues.push({ path: `states.${n}`, message: `state '${n}' is unreachable from start '${start}'` });
  }
  if (terminals.length === 0) {
    issues.push({ path: 'states', message: 'no terminal state: at least one state must have no callback, timeout, http, action or command' });
    return issues;
  }
  const canFinish = reach([...terminals], edges, true);
  for (const n of names) {
    if (reachable.has(n) && !canFinish.has(n)) {
      issues.push({ path: `states.${n}`, message: `no terminal state can be reached from '${n}', so a run there could never complete` });
    }
  }
  return issues;
}
