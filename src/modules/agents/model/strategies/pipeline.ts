/** pipeline: stages in order; each stage starts from the previous stage's branch and gets its result as context. */
import { TERMINAL } from '../agent.ts';
import { outcome, type Strategy, type SwarmNode } from '../swarm.ts';

/** The pipeline strategy. */
export const pipeline: Strategy = (spec, nodes) => {
  const stages = spec.tasks!;
  const done: SwarmNode[] = [];
  for (let i = 0; i < stages.length; i++) {
    const key = `s${i}`;
    const node = nodes.get(key);
    const prev = done[i - 1];
    if (!node) return { spawn: [{ key, role: `stage ${i + 1} of ${stages.length}`, task: stages[i]!, context: prev ? { previousStage: { result: prev.result, branch: prev.branch } } : undefined, baseBranch: prev?.branch }] };
    if (!TERMINAL.has(node.status)) return { spawn: [] };
    if (node.status !== 'completed') return { spawn: [], done: { status: 'failed', result: { stages: [...done, node].map(outcome) }, error: `stage ${i + 1} ${node.status}: ${node.error ?? ''}`.trim() } };
    done.push(node);
  }
  const last = done[done.length - 1]!;
  return { spawn: [], done: { status: 'completed', result: { output: last.result, branch: last.branch, stages: done.map(outcome) } } };
};
