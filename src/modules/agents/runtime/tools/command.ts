/** run_command: a program from an argv array in the worktree, no shell, deny patterns, timeout, capped output. */
import * as z from 'zod';
import { checkCommand } from '../command-policy.ts';
import { scrubbedEnv } from '../processes.ts';
import type { Tool } from './context.ts';

const args = z.strictObject({ argv: z.array(z.string()).min(1).describe('program and arguments, e.g. ["bun", "test"]; no shell syntax'), timeout_ms: z.number().int().min(100).optional() });

/** run_command */
export const runCommandTool: Tool = {
  name: 'run_command',
  description: 'Run a program in the worktree from an argv array (no shell). Answers the exit code, stdout and stderr.',
  parameters: args,
  async run(raw, ctx) {
    const a = args.parse(raw);
    checkCommand(a.argv, ctx.deny, ctx.root);
    const r = await ctx.processes.run(a.argv, { cwd: ctx.root, env: scrubbedEnv(ctx.root), timeoutMs: Math.min(a.timeout_ms ?? ctx.commandTimeoutMs, ctx.commandTimeoutMs), capBytes: ctx.outputCapBytes, signal: ctx.signal });
    const status = r.timedOut ? `killed after the ${Math.min(a.timeout_ms ?? ctx.commandTimeoutMs, ctx.commandTimeoutMs)} ms timeout` : r.killed ? 'killed' : r.exitCode === null ? `ended by ${r.signal}` : `exit ${r.exitCode}`;
    return `${status}\n--- stdout${r.truncated ? ' (cut)' : ''}\n${r.stdout}\n--- stderr\n${r.stderr}`;
  },
};
