/**
 * map-reduce: the task is split (by rule: the given `tasks`, or by a splitter agent whose summary lists subtasks), the
 * mappers run, then a reducer gets every mapper's result and branch to merge them.
 */
import { TERMINAL } from '../agent.ts';
import { outcome, subtasksOf, type Strategy, type SwarmNode } from '../swarm.ts';

const MAX_SPLIT = 50;

/** The map-reduce strategy. */
export const mapReduce: Strategy = (spec, nodes) => {
  let tasks = spec.tasks;
  const split = nodes.get('split');
  if (!tasks) {
    if (!split) return { spawn: [{ key: 'split', role: 'splitter', task: `Split this task into independent subtasks that separate agents can do in parallel. Change no files. Call finish with a summary that is a JSON array of subtask strings (at most ${MAX_SPLIT}).\n\nTask: ${spec.task}` }] };
    if (!TERMINAL.has(split.status)) return { spawn: [] };
    if (split.status !== 'completed') return { spawn: [], done: { status: 'failed', result: { split: outcome(split) }, error: `the splitter ${split.status}` } };
    tasks = subtasksOf(split.result, MAX_SPLIT);
    if (tasks.length === 0) return { spawn: [], done: { status: 'failed', result: { split: outcome(split) }, error: 'the splitter named no subtasks' } };
  }
  const keys = tasks.map((_, i) => `m${i}`);
  const spawn = tasks.flatMap((task, i) => (nodes.has(keys[i]!) ? [] : [{ key: keys[i]!, role: `mapper ${i + 1} of ${tasks.length}`, task }]));
  const mappers = keys.map((k) => nodes.get(k)).filter((n): n is SwarmNode => n !== undefined);
  if (spawn.length > 0 || mappers.some((n) => !TERMINAL.has(n.status))) return { spawn };
  const ok = mappers.filter((n) => n.status === 'completed');
  if (ok.length === 0) return { spawn: [], done: { status: 'failed', result: { mappers: mappers.map(outcome) }, error: 'no mapper completed' } };
  const reduce = nodes.get('reduce');
  if (!reduce) {
    const task = spec.reduce ?? `Merge the mappers' work into one result. Their branches are in this repository; merge them with run_command (git merge <branch>) and resolve conflicts, then finish with a summary of the whole.\n\nOriginal task: ${spec.task ?? tasks.join('\n')}`;
    return { spawn: [{ key: 'reduce', role: 'reducer', task, context: { mappers: ok.map((n) => ({ key: n.key, result: n.result, branch: n.branch })) } }] };
  }
  if (!TERMINAL.has(reduce.status)) return { spawn: [] };
  const result = { output: reduce.result, branch: reduce.branch, split: split ? outcome(split) : undefined, mappers: mappers.map(outcome), reducer: outcome(reduce) };
  return { spawn: [], done: reduce.status === 'completed' ? { status: 'completed', result } : { status: 'failed', result, error: `the reducer ${reduce.status}` } };
};
