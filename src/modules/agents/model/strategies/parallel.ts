/** parallel: N agents on the same task, or one agent per task; the swarm ends when all have ended. */
import { outcome, type Strategy, type SwarmNode } from '../swarm.ts';
import { TERMINAL } from '../agent.ts';

/** The parallel strategy. */
export const parallel: Strategy = (spec, nodes) => {
  const tasks = spec.tasks ?? Array.from({ length: spec.agents ?? 1 }, () => spec.task!);
  const keys = tasks.map((_, i) => `p${i}`);
  const spawn = tasks.flatMap((task, i) => (nodes.has(keys[i]!) ? [] : [{ key: keys[i]!, role: `worker ${i + 1} of ${tasks.length}`, task }]));
  const all = keys.map((k) => nodes.get(k)).filter((n): n is SwarmNode => n !== undefined);
  if (spawn.length > 0 || all.some((n) => !TERMINAL.has(n.status))) return { spawn };
  const failed = all.filter((n) => n.status !== 'completed');
  return { spawn: [], done: { status: failed.length === 0 ? 'completed' : 'failed', result: { agents: all.map(outcome) }, error: failed.length ? `${failed.length} of ${all.length} agents did not complete` : undefined } };
};
