/**
 * Soundings: N attempts of a phase in parallel (each with its own variation of the prompt under `mutate`), a prefilter,
 * and an evaluator that picks the winner by a tool call; `reforge` then refines the winner for more rounds, the
 * standing winner competing with its refinements. Every attempt is logged with its round (the log's turn), index and
 * winner flag.
 *
 * Each attempt is a full tool loop (the phase's tools, up to max_turns calls), like an LLM phase. Attempts are kept
 * apart: each has its own conversation and its own set_state changes and route_to choice; only the accepted winner's
 * changes reach the session's state (and its route the next phase). A reforge attempt starts from the standing
 * winner's changes. After every attempt turn, evaluator pick and pass the whole soundings progress is checkpointed, so
 * a session resumed on another worker goes on with each attempt at its next turn and never repeats a finished one.
 * A signal (audible) reaches every attempt still running, at its next turn. run_cascade in an attempt starts child
 * sessions the attempt waits for in the worker (runtime/attempt-children.ts).
 */
import { interpolateText, LlmInvalidOutput, LlmMalformedToolCall, type ChatMessage, type ChatResult, type ToolDefinition } from '../../../kernel/index.ts';
import type { PhaseDefinition } from '../model/definition.ts';
import type { AttemptProgress, CheckpointData, LogEntry, SoundingCandidate, SoundingsProgress } from '../model/session.ts';
import { runValidator } from '../model/validators.ts';
import { finishAttemptChildren, startAttemptChildren } from './attempt-children.ts';
import { sqlTool } from './data-phases.ts';
import { PhaseFailure, type PhaseResult, type SessionRun } from './session-run.ts';
import { runTool, toolDefinitions, type ToolScope } from './tools.ts';
import { checkPreWards, judgeAnswer } from './wards.ts';

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Variations `mutate: true` cycles through, one per attempt. */
export const DEFAULT_MUTATIONS = [
  'Answer in your most natural way.',
  'Take a different angle from the obvious one.',
  'Be as concise as you can.',
  'Be bold and surprising.',
  'Be careful, precise and complete.',
];

/** The variation attempt `i` gets, or undefined when the soundings do not mutate. */
function mutationOf(mutate: boolean | string[], i: number): string | undefined {
  const list = mutate === true ? DEFAULT_MUTATIONS : mutate === false ? [] : mutate;
  return list.length > 0 ? list[i % list.length] : undefined;
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** What one soundings phase run shares between its attempts. */
interface Ctx {
  run: SessionRun;
  phase: PhaseDefinition;
  p: SoundingsProgress;
  tools: ToolDefinition[];
  sql: (query: string, signal: AbortSignal) => Promise<string>;
  save: () => void;
  /** Signals taken from the session, waiting for each attempt's next turn (by attempt index). */
  signals: Map<number, string[]>;
}

/** Hands signals that arrived to every attempt still running, and puts the ones waiting for `a` into its conversation. */
function deliverSignals(c: Ctx, a: AttemptProgress): void {
  const taken = c.run.takeSignals();
  for (const text of taken) {
    c.run.log({ phase: c.phase.name, turn: c.p.r + 1, kind: 'signal', content: { text } });
    for (const b of c.p.attempts) if (!b.done && !b.failed) c.signals.set(b.i, [...(c.signals.get(b.i) ?? []), text]);
  }
  for (const text of c.signals.get(a.i) ?? []) a.messages.push({ role: 'user', content: `Signal from the operator: ${text}` });
  c.signals.delete(a.i);
}

/** The request header naming an attempt (or the evaluator) of round `r`. */
const callName = (r: number, what: string) => (r === 0 ? what : `r${r}.${what}`);

/**
 * One attempt's turns from where it is: tool calls run against the attempt's own changes and route; a malformed tool
 * call or an answer the output schema refuses is told to the model and costs a turn (as in an LLM phase). A provider
 * failure, or max_turns without an answer, puts the attempt out of the round (logged), not the phase.
 */
async function runAttempt(c: Ctx, a: AttemptProgress): Promise<void> {
  const { run, phase, p } = c;
  const s = phase.soundings!;
  const turnLog = p.r + 1;
  const scope: ToolScope = { phase, state: a.changes, allowHosts: run.spec.allow_hosts, signal: run.signal, route: a.route, sql: c.sql };
  const base = { phase: phase.name, turn: turnLog, soundingIndex: a.i };
  const logRow = (e: Omit<LogEntry, 'phase' | 'turn' | 'soundingIndex'>) => run.log({ ...base, ...e });
  try {
    // Resumed while waiting for its run_cascade children: it waits for the same ones.
    if (a.awaiting) {
      await finishAttemptChildren(run, a, p.r, logRow);
      c.save();
    }
    while (a.turn < phase.max_turns) {
      // A tool loop can spend many calls: the budget is checked before each (it fails the phase, not the attempt).
      run.checkBudget();
      deliverSignals(c, a);
      let res: ChatResult;
      try {
        res = await run.chat({
          model: a.model,
          messages: a.messages,
          tools: c.tools.length > 0 ? c.tools : undefined,
          responseFormat: phase.output_schema ? { type: 'json_schema', schema: phase.output_schema, name: phase.name.replace(/-/g, '_') } : undefined,
          signal: run.signal,
          headers: { 'x-capstan-session': run.id, 'x-capstan-sounding': callName(p.r, String(a.i)) },
        });
      } catch (err) {
        if (err instanceof LlmMalformedToolCall) {
          a.turn += 1;
          run.charge(phase.name, err.model, err.usage.inputTokens, err.usage.outputTokens, err.cost);
          run.log({ ...base, kind: 'error', model: err.model, tokensIn: err.usage.inputTokens, tokensOut: err.usage.outputTokens, cost: err.cost ?? null, content: { error: 'malformed_tool_call', message: err.message, round: p.r } });
          a.messages.push({ role: 'assistant', content: null, toolCalls: [{ id: err.toolCall.id, name: err.toolCall.name, arguments: err.toolCall.rawArguments }] });
          a.messages.push({ role: 'tool', toolCallId: err.toolCall.id, content: 'error: the arguments were not valid JSON; call the tool again with a JSON object' });
          c.save();
          continue;
        }
        if (err instanceof LlmInvalidOutput) {
          a.turn += 1;
          run.charge(phase.name, err.model, err.usage.inputTokens, err.usage.outputTokens, err.cost);
          const reason = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
          run.log({ ...base, kind: 'validation', model: err.model, tokensIn: err.usage.inputTokens, tokensOut: err.usage.outputTokens, cost: err.cost ?? null, content: { stage: 'output_schema', valid: false, reason, answer: err.content.slice(0, 2000), round: p.r } });
          a.messages.push({ role: 'assistant', content: err.content });
          a.messages.push({ role: 'user', content: `Your answer does not match the required JSON schema (${reason}). Answer again with JSON only.` });
          c.save();
          continue;
        }
        throw err;
      }
      a.turn += 1;
      run.charge(phase.name, res.model.id, res.usage.inputTokens, res.usage.outputTokens, res.cost);
      if (res.toolCalls.length > 0) {
        run.log({ ...base, kind: 'assistant', model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, durationMs: Math.round(res.latencyMs), content: { text: res.text, toolCalls: res.toolCalls, round: p.r } });
        a.messages.push(res.message);
        // run_cascade calls start child sessions first, so they run while the other calls do.
        const rest = await startAttemptChildren(run, phase, a, p.r, res.toolCalls, logRow);
        for (const call of rest) {
          const { ok, result } = await runTool(call, scope);
          a.messages.push({ role: 'tool', toolCallId: call.id, content: result });
          run.log({ ...base, kind: 'tool', content: { name: call.name, arguments: call.arguments, ok, result: result.slice(0, 2000), round: p.r } });
        }
        a.route = scope.route;
        c.save();
        if (a.awaiting) {
          await finishAttemptChildren(run, a, p.r, logRow);
          c.save();
        }
        continue;
      }
      const output = phase.output_schema ? res.parsed : res.text;
      const passes = s.prefilter === 'json_ok' ? runValidator('json_ok', output).valid : true;
      a.done = { output, passes, model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, durationMs: Math.round(res.latencyMs) };
      c.save();
      return;
    }
    a.failed = `used its ${phase.max_turns} turns without an answer`;
  } catch (err) {
    if (run.signal.aborted || err instanceof PhaseFailure) throw err;
    a.failed = (err as Error).message;
  }
  run.log({ ...base, kind: 'sounding', winner: false, model: a.model, content: { error: a.failed, round: p.r, mutation: a.mutation, turns: a.turn } });
  c.save();
}

/**
 * Plays the current round to its end: every attempt that has not finished runs on (at most max_parallel at once), the
 * prefilter, then the evaluator over the passing attempts and the standing winner (index -1); sets `p.winner` and logs
 * every attempt with the winner flag.
 */
async function playRound(c: Ctx): Promise<void> {
  const { run, phase, p } = c;
  const s = phase.soundings!;
  const turn = p.r + 1;
  run.checkBudget();
  const open = p.attempts.filter((a) => !a.done && !a.failed);
  await pool(open, s.max_parallel ?? p.attempts.length, (a) => runAttempt(c, a));
  const candidates: SoundingCandidate[] = [...(p.standing ? [p.standing] : []), ...p.attempts.filter((a) => a.done?.passes).map((a) => ({ i: a.i, output: a.done!.output, changes: a.changes, route: a.route }))];
  if (candidates.length === 0) throw new PhaseFailure(`phase ${phase.name}: none of the ${p.attempts.length} soundings passed the prefilter`);
  let winner = candidates[0]!;
  if (candidates.length > 1) {
    const label = (k: SoundingCandidate) => (k.i === -1 ? 'Candidate -1 (the answer to improve on)' : `Candidate ${k.i}`);
    // The evaluator sees what a candidate would store, since the winner's set_state changes are kept.
    const stored = (k: SoundingCandidate) => (Object.keys(k.changes).length > 0 ? `\n(state it sets: ${JSON.stringify(k.changes)})` : '');
    const listing = candidates.map((k) => `${label(k)}:\n${show(k.output)}${stored(k)}`).join('\n\n');
    const res = await run.chat({
      model: s.evaluator_model ?? phase.model ?? run.spec.model!,
      messages: [
        { role: 'system', content: s.evaluator },
        { role: 'user', content: `Pick the best candidate by calling pick_winner.\n\n${listing}` },
      ],
      tools: [{ name: 'pick_winner', description: 'Choose the winning candidate', parameters: { type: 'object', properties: { index: { type: 'integer', enum: candidates.map((k) => k.i) }, reason: { type: 'string' } }, required: ['index'] } }],
      toolChoice: { name: 'pick_winner' },
      signal: run.signal,
      headers: { 'x-capstan-session': run.id, 'x-capstan-sounding': callName(p.r, 'evaluator') },
    });
    run.charge(phase.name, res.model.id, res.usage.inputTokens, res.usage.outputTokens, res.cost);
    const pick = res.toolCalls.find((t) => t.name === 'pick_winner')?.arguments as { index?: unknown; reason?: unknown } | undefined;
    const chosen = candidates.find((k) => k.i === pick?.index);
    if (!chosen) {
      run.log({ phase: phase.name, turn, kind: 'evaluator', model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, content: { error: 'no valid pick_winner call', text: res.text, toolCalls: res.toolCalls, round: p.r } });
      throw new PhaseFailure(`phase ${phase.name}: the evaluator did not pick a candidate with pick_winner`);
    }
    winner = chosen;
    run.log({ phase: phase.name, turn, kind: 'evaluator', model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, content: { winner: chosen.i, reason: typeof pick!.reason === 'string' ? pick!.reason : '', round: p.r } });
  }
  for (const a of p.attempts) {
    const d = a.done;
    if (!d) continue;
    const state = Object.keys(a.changes).length > 0 ? { state: a.changes } : {};
    run.log({ phase: phase.name, turn, kind: 'sounding', soundingIndex: a.i, winner: a.i === winner.i, model: d.model, tokensIn: d.tokensIn, tokensOut: d.tokensOut, cost: d.cost, durationMs: d.durationMs, content: { output: d.output, passedPrefilter: d.passes, round: p.r, mutation: a.mutation, turns: a.turn, ...state } });
  }
  p.winner = winner;
  c.save();
}

/**
 * Runs (or resumes from `resume`) a soundings phase: pre wards on its input, the first round of attempts,
 * `reforge.rounds` rounds that refine the winner; then the post wards and loop_until judge the winner (cascade
 * validators as child sessions: 'blocked' while they run). A retry ward or loop_until that fails runs the whole pass
 * again with the reason as feedback (at most `max_turns` passes); the output is the accepted winner, whose set_state
 * changes then reach the session's state and whose route_to choice is the phase's.
 */
export async function runSoundings(run: SessionRun, phase: PhaseDefinition, resume?: CheckpointData): Promise<PhaseResult | 'blocked'> {
  const s = phase.soundings!;
  const system = interpolateText(phase.instructions!, { input: run.inputs, state: run.state, outputs: run.outputs });
  const context = [`Inputs: ${JSON.stringify(run.inputs)}`, ...phase.context.from.filter((f) => Object.hasOwn(run.outputs, f)).map((f) => `Output of phase ${f}:\n${show(run.outputs[f])}`)].join('\n\n');
  let p = resume?.soundings;
  if (!p) {
    // Parked on cascade validators: the phase starts afresh from this checkpoint and finds the same children.
    if ((await checkPreWards(run, phase, context, { phase: phase.name, turn: 0, messages: [] })) === 'blocked') return 'blocked';
    p = { pass: 1, r: 0, k: 0, wardAttempts: 0, attempts: [] };
  }
  const progress = (): SoundingsProgress => p!;
  const checkpoint = (): CheckpointData => ({ phase: phase.name, turn: progress().r + 1, messages: [], soundings: progress() });
  // Parallel attempts share the session's tables: their sql calls go one at a time (each rewrites the output tables).
  let sqlChain: Promise<unknown> = Promise.resolve();
  const sql = (query: string, signal: AbortSignal) => {
    const next = sqlChain.then(() => sqlTool(run, query, signal));
    sqlChain = next.catch(() => undefined);
    return next;
  };
  const c: Ctx = { run, phase, p, tools: toolDefinitions(phase), sql, save: () => run.save('turn', checkpoint()), signals: new Map() };
  const withMutation = (i: number, base: string): ChatMessage => {
    const m = mutationOf(s.mutate, i);
    return { role: 'system', content: m ? `${base}\n\nVariation: ${m}` : base };
  };
  const baseModel = phase.model ?? run.spec.model!;
  for (;;) {
    c.p = p;
    if (!p.winner) {
      if (p.attempts.length === 0) {
        const told: ChatMessage[] = p.feedback ? [{ role: 'user', content: `An earlier answer was not accepted (${p.feedback}). Do better.` }] : [];
        const standing = p.standing;
        // The standing winner competes as candidate -1, so a round of worse refinements keeps it.
        const ask: ChatMessage[] = standing ? [{ role: 'user', content: `${s.reforge!.instructions}\n\nThe answer so far:\n${show(standing.output)}` }] : [];
        const factor = standing ? (s.reforge!.factor ?? s.factor) : s.factor;
        p.attempts = Array.from({ length: factor }, (_, i): AttemptProgress => ({
          i,
          model: s.models ? s.models[i % s.models.length]! : baseModel,
          mutation: mutationOf(s.mutate, i),
          turn: 0,
          messages: [withMutation(i, system), { role: 'user', content: context }, ...told, ...ask],
          changes: { ...(standing?.changes ?? {}) },
          route: standing?.route,
        }));
      }
      await playRound(c);
    }
    const winner = p.winner!;
    if (s.reforge && p.k < s.reforge.rounds) {
      // Candidate -1 in the next round, whatever its index was in its own.
      p.standing = { ...winner, i: -1 };
      p.winner = undefined;
      p.k += 1;
      p.r += 1;
      p.attempts = [];
      continue;
    }
    const judged = await judgeAnswer(run, phase, winner.output, p.r + 1, p.wardAttempts, `s${p.r}`, (children) => ({ ...checkpoint(), soundings: { ...progress(), validating: children } }));
    if (judged === 'blocked') return 'blocked';
    p.wardAttempts = judged.attempts;
    if (!judged.feedback) {
      Object.assign(run.state, winner.changes);
      return { output: winner.output, route: winner.route };
    }
    if (p.pass >= phase.max_turns) throw new PhaseFailure(`phase ${phase.name} used its ${phase.max_turns} passes of soundings without an accepted answer (${judged.feedback})`);
    p = { pass: p.pass + 1, r: p.r + 1, k: 0, wardAttempts: p.wardAttempts, feedback: judged.feedback, attempts: [] };
    c.save();
  }
}
