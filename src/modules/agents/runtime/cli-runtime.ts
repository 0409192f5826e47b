/**
 * The external CLI runtime: a coding-agent program from config run headless in the worktree (argv, no shell), the task
 * on stdin or as an argument. Stdout lines that are JSON objects become log rows; their token usage is charged (each
 * line with usage is saved as a turn, so the agent's and its project's budgets stop the program); a `result` field is
 * the final message. A CLI agent
 * cannot continue a conversation: resumed after a crash, it runs again from the start in the same worktree.
 */
import { interpolateText } from '../../../kernel/index.ts';
import { AgentFailure, type AgentRun, type RuntimeOutcome } from './agent-run.ts';
import { scrubbedEnv } from './processes.ts';

/** Token usage in the shapes coding-agent CLIs print (Anthropic-, OpenAI- and camel-case names). */
function usageOf(v: Record<string, unknown>): { input: number; output: number; cost?: number } | undefined {
  const u = (v.usage ?? (v.message as Record<string, unknown> | undefined)?.usage) as Record<string, unknown> | undefined;
  if (!u || typeof u !== 'object') return undefined;
  const n = (...keys: string[]) => keys.map((k) => u[k]).find((x): x is number => typeof x === 'number') ?? 0;
  const input = n('input_tokens', 'prompt_tokens', 'inputTokens');
  const output = n('output_tokens', 'completion_tokens', 'outputTokens');
  const cost = [v.total_cost_usd, v.cost, u.cost].find((x): x is number => typeof x === 'number');
  return input || output || cost ? { input, output, cost } : undefined;
}

/** Runs the configured CLI to its end. */
export async function cliRuntime(run: AgentRun): Promise<RuntimeOutcome> {
  const a = run.agent;
  const cfg = run.deps.config.cliRuntimes[a.spec.cli ?? ''];
  if (!cfg) throw new AgentFailure(`no CLI runtime '${a.spec.cli}' on this server`);
  const scope = { task: a.spec.task, worktree: a.worktree, agentId: a.id, model: a.spec.model };
  const argv = cfg.command.map((part) => interpolateText(part, scope));
  // Like the built-in loop before each LLM call: a spent budget (the agent's own or its project's) starts nothing.
  // Between the program's turns, each charge checks both and a spent one fails the saved turn, which kills the program.
  await run.checkBudgets();
  let final: string | undefined;
  let chain: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const onLine = (line: string) => {
    const text = line.trim();
    if (!text) return;
    let value: unknown;
    if (cfg.jsonLines && text.startsWith('{')) {
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
    }
    // Lines are handled in order, one at a time: a charge may publish events and save a turn.
    chain = chain.then(async () => {
      if (failure) return;
      if (!value || typeof value !== 'object') {
        run.log({ turn: run.turn, kind: 'output', content: { text: text.slice(0, 4_000) } });
        return;
      }
      const v = value as Record<string, unknown>;
      if (typeof v.result === 'string') final = v.result;
      const usage = usageOf(v);
      if (!usage) {
        run.log({ turn: run.turn, kind: 'output', content: v });
        return;
      }
      run.turn += 1;
      run.log({ turn: run.turn, kind: 'output', content: v, tokensIn: usage.input, tokensOut: usage.output, cost: usage.cost ?? null });
      try {
        await run.charge(usage.input, usage.output, usage.cost);
        await run.saveTurn(['cli']);
      } catch (err) {
        failure = err as Error;
        run.processes.killAll();
      }
    });
  };
  const remaining = a.spec.wallClockMs;
  const r = await run.processes.run(argv, {
    cwd: a.worktree,
    env: scrubbedEnv(a.worktree, cfg.env),
    timeoutMs: remaining,
    capBytes: run.deps.config.outputCapBytes,
    stdin: cfg.taskVia === 'stdin' ? a.spec.task : undefined,
    signal: run.signal,
    onLine,
  });
  await chain;
  if (failure) throw failure;
  if (run.signal.aborted) throw new AgentFailure('stopped');
  if (r.exitCode !== 0) throw new AgentFailure(`${argv[0]} ${r.timedOut ? 'timed out' : `exited ${r.exitCode ?? r.signal}`}: ${r.stderr.slice(0, 500)}`);
  const lastLine = r.stdout.trim().split('\n').pop() ?? '';
  return { kind: 'finished', result: final ?? (cfg.jsonLines && lastLine.startsWith('{') ? 'done' : lastLine || 'done') };
}
