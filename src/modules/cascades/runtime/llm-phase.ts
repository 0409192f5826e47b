/** One LLM phase: the turn loop with native tool calls, structured output, wards, loop_until and signals. */
import { CapstanError, interpolateText, Invalid, LlmInvalidOutput, LlmMalformedToolCall, type ChatMessage, type ToolCall } from '../../../kernel/index.ts';
import type { CascadeDefinition, PhaseDefinition } from '../model/definition.ts';
import type { CheckpointData } from '../model/session.ts';
import type { NewChild } from '../store/index.ts';
import { sqlTool } from './data-phases.ts';
import { timeoutOutcome } from './question-timeout.ts';
import { PhaseFailure, type PhaseResult, type SessionRun } from './session-run.ts';
import { awaitChildren, childOutcome } from './sub-cascades.ts';
import { runTool, toolDefinitions, type ToolScope } from './tools.ts';
import { checkPreWards, judgeAnswer } from './wards.ts';

/** Longest run_cascade result sent back to the model (characters). */
const MAX_CHILD_RESULT_CHARS = 8_000;

/**
 * Waits for the children of run_cascade calls, then adds each one's outcome as its tool call's result; 'blocked'
 * when the session parked to wait (it comes back through the checkpoint's `awaiting`).
 */
async function finishAwaited(run: SessionRun, phase: PhaseDefinition, awaiting: NonNullable<CheckpointData['awaiting']>, cp: CheckpointData, messages: ChatMessage[], turn: number): Promise<'done' | 'blocked'> {
  const kids = await awaitChildren(run, awaiting.map((a) => a.childId), cp);
  if (kids === 'blocked') return 'blocked';
  kids.forEach((k, i) => {
    const text = JSON.stringify(childOutcome(k));
    messages.push({ role: 'tool', toolCallId: awaiting[i]!.toolCallId, content: text.length > MAX_CHILD_RESULT_CHARS ? `${text.slice(0, MAX_CHILD_RESULT_CHARS)}... (truncated)` : text });
    run.log({ phase: phase.name, turn, kind: 'tool', content: { name: 'run_cascade', sessionId: k.id, ok: k.status === 'completed', result: text.slice(0, 2000) } });
  });
  return 'done';
}

/** The context message: the inputs and the outputs of the phases named in `context.from`, nothing else. */
function contextMessage(run: SessionRun, phase: PhaseDefinition): string {
  const parts = [`Inputs: ${JSON.stringify(run.inputs)}`];
  for (const from of phase.context.from) {
    if (!Object.hasOwn(run.outputs, from)) continue;
    const out = run.outputs[from];
    parts.push(`Output of phase ${from}:\n${typeof out === 'string' ? out : JSON.stringify(out)}`);
  }
  return parts.join('\n\n');
}

/** The question of an ask_human call, or undefined when its arguments have none. */
function questionOf(call: ToolCall): string | undefined {
  const q = (call.arguments as { question?: unknown } | null)?.question;
  return typeof q === 'string' && q.trim() !== '' ? q.slice(0, 4_000) : undefined;
}

/** The text a person's answer goes back to the model as. */
function answerText(response: unknown): string {
  return typeof response === 'string' ? response : JSON.stringify(response ?? null);
}

/**
 * Runs (or resumes from `resume`) an LLM phase until it has an accepted answer, or until the model asks a person
 * (ask_human): then the session parks ('blocked') and resumes here with the answer as the tool call's result.
 */
export async function runLlmPhase(run: SessionRun, phase: PhaseDefinition, resume: CheckpointData | undefined): Promise<PhaseResult | 'blocked'> {
  const model = phase.model ?? run.spec.model!;
  let messages: ChatMessage[] = resume?.messages ?? [];
  let turn = resume?.turn ?? 0;
  let attempts = resume?.attempts ?? 0;
  const scope: ToolScope = { phase, state: run.state, allowHosts: run.spec.allow_hosts, signal: run.signal, route: resume?.route, browser: run.browser, interrupt: () => run.interruptSignal() };
  if (messages.length === 0) {
    const scopeData = { input: run.inputs, state: run.state, outputs: run.outputs };
    const user = contextMessage(run, phase);
    // Parked on cascade validators: the phase starts afresh from this checkpoint and finds the same children.
    if ((await checkPreWards(run, phase, user, { phase: phase.name, turn: 0, messages: [] })) === 'blocked') return 'blocked';
    messages = [
      { role: 'system', content: interpolateText(phase.instructions!, scopeData) },
      { role: 'user', content: user },
    ];
  }
  const tools = toolDefinitions(phase);
  const checkpoint = (): CheckpointData => ({ phase: phase.name, turn, messages, route: scope.route, attempts });
  scope.sql = (query, signal) => sqlTool(run, query, signal);
  const defs = new Map<string, CascadeDefinition>();
  /**
   * Judges an answer: cascade validators of the post wards and loop_until run as child sessions first (the session
   * parks until they end), then every ward and loop_until. 'again' when the answer was sent back with feedback.
   */
  const judge = async (output: unknown): Promise<PhaseResult | 'blocked' | 'again'> => {
    const judged = await judgeAnswer(run, phase, output, turn, attempts, `v${turn}`, (children) => ({ ...checkpoint(), validating: { output, children } }));
    if (judged === 'blocked') return 'blocked';
    attempts = judged.attempts;
    if (judged.feedback) {
      messages.push({ role: 'user', content: `Your answer was not accepted (${judged.feedback}). Try again.` });
      run.save('turn', checkpoint());
      return 'again';
    }
    return { output, route: scope.route };
  };
  if (resume?.awaiting) {
    if ((await finishAwaited(run, phase, resume.awaiting, { ...checkpoint(), awaiting: resume.awaiting }, messages, turn)) === 'blocked') return 'blocked';
    run.save('turn', checkpoint());
  }
  if (resume?.validating) {
    const judged = await judge(resume.validating.output);
    if (judged !== 'again') return judged;
  }
  if (resume?.asking) {
    const { toolCallId, checkpointId, question } = resume.asking;
    const cp = await run.humanCheckpoint(checkpointId);
    // The worker died between writing the question and parking the session: park it now.
    if (!cp) {
      await run.park({ ...checkpoint(), asking: resume.asking }, run.question({ id: checkpointId, phase: phase.name, prompt: question }, phase.ask_human, `${phase.name}.ask_human.timeout`));
      return 'blocked';
    }
    if (cp.status === 'pending') throw new PhaseFailure(`question ${checkpointId} is still pending, but the session was resumed`);
    let result = cp.status === 'answered' ? answerText(cp.response) : `no answer (the question was ${cp.status.replace('_', ' ')})`;
    if (cp.status === 'timed_out') {
      const outcome = timeoutOutcome(phase.ask_human?.on_timeout ?? 'continue', checkpointId);
      if ('fail' in outcome) throw new PhaseFailure(outcome.fail);
      if (outcome.answer !== null) result = answerText(outcome.answer);
    }
    messages.push({ role: 'tool', toolCallId, content: result });
    run.log({ phase: phase.name, turn, kind: 'tool', content: { name: 'ask_human', checkpointId, ok: cp.status === 'answered', result: result.slice(0, 2000) } });
  }
  while (turn < phase.max_turns) {
    run.checkBudget();
    for (const text of run.takeSignals()) {
      messages.push({ role: 'user', content: `Signal from the operator: ${text}` });
      run.log({ phase: phase.name, turn, kind: 'signal', content: { text } });
    }
    let res;
    try {
      res = await run.chat({
        model,
        messages,
        tools: tools.length > 0 ? tools : undefined,
        responseFormat: phase.output_schema ? { type: 'json_schema', schema: phase.output_schema, name: phase.name.replace(/-/g, '_') } : undefined,
        signal: run.signal,
        headers: { 'x-capstan-session': run.id },
      });
    } catch (err) {
      // The model's own mistakes are told to the model and cost a turn; provider failures end the phase.
      if (err instanceof LlmMalformedToolCall) {
        turn += 1;
        run.charge(phase.name, err.model, err.usage.inputTokens, err.usage.outputTokens, err.cost);
        run.log({ phase: phase.name, turn, kind: 'error', model: err.model, tokensIn: err.usage.inputTokens, tokensOut: err.usage.outputTokens, cost: err.cost ?? null, content: { error: 'malformed_tool_call', message: err.message } });
        messages.push({ role: 'assistant', content: null, toolCalls: [{ id: err.toolCall.id, name: err.toolCall.name, arguments: err.toolCall.rawArguments }] });
        messages.push({ role: 'tool', toolCallId: err.toolCall.id, content: 'error: the arguments were not valid JSON; call the tool again with a JSON object' });
        run.save('turn', checkpoint());
        continue;
      }
      if (err instanceof LlmInvalidOutput) {
        turn += 1;
        run.charge(phase.name, err.model, err.usage.inputTokens, err.usage.outputTokens, err.cost);
        const reason = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
        run.log({ phase: phase.name, turn, kind: 'validation', model: err.model, tokensIn: err.usage.inputTokens, tokensOut: err.usage.outputTokens, cost: err.cost ?? null, content: { stage: 'output_schema', valid: false, reason, answer: err.content.slice(0, 2000) } });
        messages.push({ role: 'assistant', content: err.content });
        messages.push({ role: 'user', content: `Your answer does not match the required JSON schema (${reason}). Answer again with JSON only.` });
        run.save('turn', checkpoint());
        continue;
      }
      throw err;
    }
    turn += 1;
    run.charge(phase.name, res.model.id, res.usage.inputTokens, res.usage.outputTokens, res.cost);
    run.log({ phase: phase.name, turn, kind: 'assistant', model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, durationMs: Math.round(res.latencyMs), content: { text: res.text, toolCalls: res.toolCalls } });
    messages.push(res.message);
    if (res.toolCalls.length > 0) {
      // The first valid question of the turn waits for a person; every other call runs now.
      const ask = phase.tools.includes('ask_human') ? res.toolCalls.find((c) => c.name === 'ask_human' && questionOf(c) !== undefined) : undefined;
      // run_cascade calls start child sessions (ids from the turn and the call's place: a redone turn finds them).
      const awaiting: NonNullable<CheckpointData['awaiting']> = [];
      const kids: NewChild[] = [];
      for (const [ci, call] of res.toolCalls.entries()) {
        if (call === ask) continue;
        if (call.name === 'run_cascade' && phase.tools.includes('run_cascade')) {
          const childId = `${run.id}.${phase.name}.${run.completedCount}.t${turn}.${ci}`;
          const a = (call.arguments ?? {}) as { cascade?: unknown; inputs?: unknown };
          try {
            if (ask) throw new Invalid('run_cascade cannot wait together with ask_human in one turn; call it again after the answer');
            if (typeof a.cascade !== 'string') throw new Invalid('cascade must be the name of a saved cascade');
            if (a.inputs !== undefined && (a.inputs === null || typeof a.inputs !== 'object' || Array.isArray(a.inputs))) throw new Invalid('inputs must be an object');
            kids.push(await run.children.prepare(childId, a.cascade, (a.inputs ?? {}) as Record<string, unknown>, null, defs));
            awaiting.push({ toolCallId: call.id, childId });
            run.log({ phase: phase.name, turn, kind: 'tool', content: { name: 'run_cascade', arguments: call.arguments, sessionId: childId, ok: true, result: 'started' } });
          } catch (err) {
            if (!(err instanceof CapstanError)) throw err;
            messages.push({ role: 'tool', toolCallId: call.id, content: `error: ${err.message}` });
            run.log({ phase: phase.name, turn, kind: 'tool', content: { name: 'run_cascade', arguments: call.arguments, ok: false, result: `error: ${err.message}` } });
          }
          continue;
        }
        const { ok, result } = call.name === 'ask_human' && phase.tools.includes('ask_human') && ask === undefined ? { ok: false, result: 'error: question must be a non-empty string' } : await runTool(call, scope);
        messages.push({ role: 'tool', toolCallId: call.id, content: result });
        run.log({ phase: phase.name, turn, kind: 'tool', content: { name: call.name, arguments: call.arguments, ok, result: result.slice(0, 2000) } });
      }
      // The checkpoint of this turn (and every later one) carries the browser as the turn left it.
      if (res.toolCalls.some((c) => c.name === 'browser')) await run.captureBrowser();
      if (ask) {
        const question = questionOf(ask)!;
        const checkpointId = `${run.id}.${phase.name}.${run.completedCount}.ask${turn}`;
        run.log({ phase: phase.name, turn, kind: 'tool', content: { name: 'ask_human', arguments: ask.arguments, checkpointId, ok: true, result: 'waiting for a person' } });
        await run.park({ ...checkpoint(), asking: { toolCallId: ask.id, checkpointId, question } }, run.question({ id: checkpointId, phase: phase.name, prompt: question }, phase.ask_human, `${phase.name}.ask_human.timeout`));
        return 'blocked';
      }
      if (awaiting.length > 0) {
        try {
          await run.children.start(run.id, kids);
        } catch (err) {
          // Too deep a nesting: every call of the turn is told, and the model may go on without them.
          if (!(err instanceof CapstanError)) throw err;
          for (const a of awaiting.splice(0)) messages.push({ role: 'tool', toolCallId: a.toolCallId, content: `error: ${err.message}` });
          run.log({ phase: phase.name, turn, kind: 'tool', content: { name: 'run_cascade', ok: false, result: `error: ${err.message}` } });
        }
      }
      if (awaiting.length > 0) {
        if ((await finishAwaited(run, phase, awaiting, { ...checkpoint(), awaiting }, messages, turn)) === 'blocked') return 'blocked';
      }
      run.save('turn', checkpoint());
      continue;
    }
    const judged = await judge(phase.output_schema ? res.parsed : res.text);
    if (judged !== 'again') return judged;
  }
  throw new PhaseFailure(`phase ${phase.name} used its ${phase.max_turns} turns without an accepted answer`);
}
