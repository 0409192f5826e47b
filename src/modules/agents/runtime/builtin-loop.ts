/** The built-in runtime: a tool loop over the kernel's LLM port with native tool calls, one checkpoint per turn. */
import { LlmMalformedToolCall, type ToolCall } from '../../../kernel/index.ts';
import { AgentFailure, type AgentRun, type RuntimeOutcome } from './agent-run.ts';
import { Refusal } from './refusal.ts';
import { finishSummary, FINISH, toolAllowed, toolDefinitions, toolNamed } from './tools/index.ts';

const TOOL_RESULT_CAP = 100_000;

/** Runs one tool call; refusals and errors become the tool's answer, so the model can correct itself. */
async function callTool(run: AgentRun, call: ToolCall): Promise<{ ok: boolean; result: string }> {
  const spec = run.agent.spec;
  const extensionTools = run.deps.extensionTools();
  const tool = toolNamed(call.name, extensionTools);
  try {
    if (!tool || !toolAllowed(spec, call.name, run.deps.config.allowHosts, extensionTools)) throw new Refusal('tool_denied', `tool ${call.name} is not available to this agent`);
    const result = await tool.run(call.arguments, run.tools);
    return { ok: true, result: result.length > TOOL_RESULT_CAP ? `${result.slice(0, TOOL_RESULT_CAP)}\n[cut]` : result };
  } catch (err) {
    if (err instanceof Refusal) {
      await run.refused(call.name, err);
      return { ok: false, result: `refused (${err.rule}): ${err.message}` };
    }
    if (run.signal.aborted) throw err;
    const e = err as Error;
    return { ok: false, result: `error: ${e.name === 'ZodError' ? `bad arguments: ${e.message}` : e.message}` };
  }
}

/** The tool loop from the run's checkpoint. */
export async function builtinLoop(run: AgentRun): Promise<RuntimeOutcome> {
  const a = run.agent;
  const model = a.spec.model;
  if (run.messages.length === 0) run.messages = await run.openingMessages();
  while (run.turn < a.spec.maxTurns) {
    // Read each turn: under serve --dev an extension's tools change while an agent runs.
    const tools = toolDefinitions(a.spec, run.deps.config.allowHosts, run.deps.extensionTools());
    await run.checkBudgets();
    let res;
    const started = performance.now();
    try {
      res = await run.deps.llm.chat({ model, messages: run.messages, tools, signal: run.signal, headers: { 'x-capstan-agent': a.id } });
    } catch (err) {
      if (!(err instanceof LlmMalformedToolCall)) throw err;
      // The model's own mistake: it is told and the turn counts.
      run.turn += 1;
      run.log({ turn: run.turn, kind: 'error', content: { error: 'malformed_tool_call', message: err.message }, tokensIn: err.usage.inputTokens, tokensOut: err.usage.outputTokens, cost: err.cost ?? null });
      run.messages.push({ role: 'assistant', content: null, toolCalls: [{ id: err.toolCall.id, name: err.toolCall.name, arguments: err.toolCall.rawArguments }] });
      run.messages.push({ role: 'tool', toolCallId: err.toolCall.id, content: 'error: the arguments were not valid JSON; call the tool again with a JSON object' });
      await run.charge(err.usage.inputTokens, err.usage.outputTokens, err.cost);
      await run.saveTurn([]);
      continue;
    }
    run.turn += 1;
    run.log({ turn: run.turn, kind: 'assistant', content: { text: res.text, toolCalls: res.toolCalls }, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, durationMs: Math.round(performance.now() - started) });
    run.messages.push(res.message);
    await run.charge(res.usage.inputTokens, res.usage.outputTokens, res.cost);
    let finished: string | undefined = res.toolCalls.length === 0 ? res.text || 'done (no summary)' : undefined;
    for (const call of res.toolCalls) {
      if (call.name === FINISH) {
        finished = finishSummary(call.arguments);
        run.messages.push({ role: 'tool', toolCallId: call.id, content: 'finishing' });
        run.log({ turn: run.turn, kind: 'tool', content: { name: FINISH, arguments: call.arguments, ok: true } });
        continue;
      }
      const { ok, result } = await callTool(run, call);
      run.messages.push({ role: 'tool', toolCallId: call.id, content: result });
      run.log({ turn: run.turn, kind: 'tool', content: { name: call.name, arguments: call.arguments, ok, result: result.slice(0, 4_000) } });
    }
    const status = await run.saveTurn(res.toolCalls.map((c) => c.name));
    if (finished !== undefined) return { kind: 'finished', result: finished };
    if (status === 'paused') return { kind: 'paused' };
    if (status === 'queued') return { kind: 'requeued' };
  }
  throw new AgentFailure(`used its ${a.spec.maxTurns} turns without finishing`);
}
