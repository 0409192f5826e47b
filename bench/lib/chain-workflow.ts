/** The benchmarks' workflow: s0 → s1 → … → s<steps>, each step moving on at once. */
import { defineWorkflow, type AnyWorkflowSpec } from '../../src/modules/workflow/index.ts';

/** A chain of `steps` steps; each step's consumer has `parallel` shards. */
export function chainWorkflow(name: string, steps: number, parallel = 1): AnyWorkflowSpec {
  const b = defineWorkflow<{ i: number }, string>(name);
  for (let k = 0; k < steps; k++) b.step(`s${k}`, () => `s${k + 1}`, `s${k + 1}`, { parallel });
  return b.build();
}
