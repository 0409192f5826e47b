/**
 * tree: a planner either does its task or decomposes it (its summary is a JSON array of subtasks); each subtask goes to
 * a child planner one level down, up to `depth`, where agents must do the work themselves.
 */
import { TERMINAL } from '../agent.ts';
import { subtasksOf, type AgentPlan, type Strategy, type SwarmSpec, type SwarmNode } from '../swarm.ts';

/** A node of the result tree. */
interface TreeResult {
  key: string;
  agentId: string;
  status: string;
  result: string | null;
  branch: string;
  children: TreeResult[];
}

const taskFor = (spec: SwarmSpec, task: string, depth: number): string =>
  depth < spec.depth
    ? `Either do this task yourself, or, when it is too large for one agent, split it: then change no files and call finish with a summary that is only a JSON array of at most ${spec.max_children} subtask strings.\n\nTask: ${task}`
    : `Do this task yourself (it cannot be split further) and call finish with a summary.\n\nTask: ${task}`;

/** The tree strategy. */
export const tree: Strategy = (spec, nodes) => {
  const spawn: AgentPlan[] = [];
  let open = false;
  let failed = 0;
  const walk = (key: string, task: string, depth: number): TreeResult | undefined => {
    const node: SwarmNode | undefined = nodes.get(key);
    if (!node) {
      spawn.push({ key, role: depth === 0 ? 'root planner' : `planner at depth ${depth}`, task: taskFor(spec, task, depth) });
      return undefined;
    }
    if (!TERMINAL.has(node.status)) open = true;
    else if (node.status !== 'completed') failed += 1;
    const subtasks = node.status === 'completed' && depth < spec.depth ? subtasksOf(node.result, spec.max_children, true) : [];
    const children = subtasks.map((t, i) => walk(`${key}-${i}`, t, depth + 1)).filter((c): c is TreeResult => c !== undefined);
    return { key, agentId: node.id, status: node.status, result: node.result, branch: node.branch, children };
  };
  const root = walk('t', spec.task!, 0);
  if (spawn.length > 0 || open) return { spawn };
  return { spawn: [], done: failed === 0 ? { status: 'completed', result: { tree: root } } : { status: 'failed', result: { tree: root }, error: `${failed} agent(s) of the tree did not complete` } };
};
