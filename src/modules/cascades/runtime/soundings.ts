/**
 * Soundings: N attempts of a phase in parallel (each with its own variation of the prompt under `mutate`), a prefilter,
 * and an evaluator that picks the winner by a tool call; `reforge` then refines the winner for more rounds, the
 * standing winner competing with its refinements. Every attempt is logged with its round (the log's turn), index and
 * winner flag.
 */
import { interpolateText, type ChatMessage, type ChatResult } from '../../../kernel/index.ts';
import type { PhaseDefinition } from '../model/definition.ts';
import { runValidator } from '../model/validators.ts';
import { PhaseFailure, type PhaseResult, type SessionRun } from './session-run.ts';
import { checkPreWards, judgeOutput } from './wards.ts';

/** Runs `fn` over `items` with at most `limit` at once, keeping order. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
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

/** One candidate of a round: a new attempt, or (in a reforge round) the standing winner. */
interface Candidate {
  i: number;
  output: unknown;
}

/**
 * One round: `factor` attempts of `messagesOf(i)`, the prefilter, then the evaluator over the passing attempts and
 * `standing` (the previous round's winner, index -1). Logs every attempt with `round` as its turn; returns the winner.
 */
async function round(run: SessionRun, phase: PhaseDefinition, r: number, factor: number, messagesOf: (i: number) => ChatMessage[], standing?: Candidate): Promise<Candidate> {
  const s = phase.soundings!;
  const baseModel = phase.model ?? run.spec.model!;
  const turn = r + 1;
  run.checkBudget();
  const indexes = Array.from({ length: factor }, (_, i) => i);
  const attempts = await pool(indexes, s.max_parallel ?? factor, async (i) => {
    const model = s.models ? s.models[i % s.models.length]! : baseModel;
    const mutation = mutationOf(s.mutate, i);
    try {
      const res: ChatResult = await run.chat({
        model,
        messages: messagesOf(i),
        responseFormat: phase.output_schema ? { type: 'json_schema', schema: phase.output_schema, name: phase.name.replace(/-/g, '_') } : undefined,
        signal: run.signal,
        headers: { 'x-capstan-session': run.id, 'x-capstan-sounding': r === 0 ? String(i) : `r${r}.${i}` },
      });
      run.charge(phase.name, res.model.id, res.usage.inputTokens, res.usage.outputTokens, res.cost);
      const output = phase.output_schema ? res.parsed : res.text;
      const passes = s.prefilter === 'json_ok' ? runValidator('json_ok', output).valid : true;
      return { i, output, passes, res, mutation };
    } catch (err) {
      if (run.signal.aborted) throw err;
      run.log({ phase: phase.name, turn, kind: 'sounding', soundingIndex: i, winner: false, model, content: { error: (err as Error).message, round: r, mutation } });
      return { i, output: undefined, passes: false, res: undefined, mutation };
    }
  });
  const candidates: Candidate[] = [...(standing ? [standing] : []), ...attempts.filter((a) => a.passes)];
  if (candidates.length === 0) throw new PhaseFailure(`phase ${phase.name}: none of the ${factor} soundings passed the prefilter`);
  let winner = candidates[0]!;
  if (candidates.length > 1) {
    const label = (c: Candidate) => (c.i === -1 ? 'Candidate -1 (the answer to improve on)' : `Candidate ${c.i}`);
    const listing = candidates.map((c) => `${label(c)}:\n${show(c.output)}`).join('\n\n');
    const evaluator = s.evaluator_model ?? baseModel;
    const res = await run.chat({
      model: evaluator,
      messages: [
        { role: 'system', content: s.evaluator },
        { role: 'user', content: `Pick the best candidate by calling pick_winner.\n\n${listing}` },
      ],
      tools: [{ name: 'pick_winner', description: 'Choose the winning candidate', parameters: { type: 'object', properties: { index: { type: 'integer', enum: candidates.map((c) => c.i) }, reason: { type: 'string' } }, required: ['index'] } }],
      toolChoice: { name: 'pick_winner' },
      signal: run.signal,
      headers: { 'x-capstan-session': run.id, 'x-capstan-sounding': r === 0 ? 'evaluator' : `r${r}.evaluator` },
    });
    run.charge(phase.name, res.model.id, res.usage.inputTokens, res.usage.outputTokens, res.cost);
    const pick = res.toolCalls.find((t) => t.name === 'pick_winner')?.arguments as { index?: unknown; reason?: unknown } | undefined;
    const chosen = candidates.find((c) => c.i === pick?.index);
    if (!chosen) {
      run.log({ phase: phase.name, turn, kind: 'evaluator', model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, content: { error: 'no valid pick_winner call', text: res.text, toolCalls: res.toolCalls, round: r } });
      throw new PhaseFailure(`phase ${phase.name}: the evaluator did not pick a candidate with pick_winner`);
    }
    winner = chosen;
    run.log({ phase: phase.name, turn, kind: 'evaluator', model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, content: { winner: chosen.i, reason: typeof pick!.reason === 'string' ? pick!.reason : '', round: r } });
  }
  for (const a of attempts) {
    if (!a.res) continue;
    run.log({ phase: phase.name, turn, kind: 'sounding', soundingIndex: a.i, winner: a.i === winner.i, model: a.res.model.id, tokensIn: a.res.usage.inputTokens, tokensOut: a.res.usage.outputTokens, cost: a.res.cost ?? null, durationMs: Math.round(a.res.latencyMs), content: { output: a.output, passedPrefilter: a.passes, round: r, mutation: a.mutation } });
  }
  return winner;
}

/**
 * Runs a soundings phase (no tools): pre wards on its input, the first round of attempts, `reforge.rounds` rounds that
 * refine the winner; then the post wards and loop_until judge the winner. A retry ward or loop_until that fails runs
 * the whole pass again with the reason as feedback (at most `max_turns` passes); the output is the accepted winner.
 */
export async function runSoundings(run: SessionRun, phase: PhaseDefinition): Promise<PhaseResult> {
  const s = phase.soundings!;
  const system = interpolateText(phase.instructions!, { input: run.inputs, state: run.state, outputs: run.outputs });
  const context = [`Inputs: ${JSON.stringify(run.inputs)}`, ...phase.context.from.filter((f) => Object.hasOwn(run.outputs, f)).map((f) => `Output of phase ${f}:\n${show(run.outputs[f])}`)].join('\n\n');
  checkPreWards(run, phase, context);
  const withMutation = (i: number, base: string): ChatMessage => {
    const m = mutationOf(s.mutate, i);
    return { role: 'system', content: m ? `${base}\n\nVariation: ${m}` : base };
  };
  // Rounds are numbered across passes, so each log row and request header names one round.
  let r = 0;
  let attempts = 0;
  let feedback: string | undefined;
  for (let pass = 1; ; pass++) {
    const told: ChatMessage[] = feedback ? [{ role: 'user', content: `An earlier answer was not accepted (${feedback}). Do better.` }] : [];
    let winner = await round(run, phase, r++, s.factor, (i) => [withMutation(i, system), { role: 'user', content: context }, ...told]);
    for (let k = 1; s.reforge && k <= s.reforge.rounds; k++) {
      const best = winner.output;
      const ask = `${s.reforge.instructions}\n\nThe answer so far:\n${show(best)}`;
      // The standing winner competes as candidate -1, so a round of worse refinements keeps it.
      winner = await round(run, phase, r++, s.reforge.factor ?? s.factor, (i) => [withMutation(i, system), { role: 'user', content: context }, ...told, { role: 'user', content: ask }], { i: -1, output: best });
    }
    const judged = judgeOutput(run, phase, winner.output, r, attempts);
    attempts = judged.attempts;
    if (!judged.feedback) return { output: winner.output };
    if (pass >= phase.max_turns) throw new PhaseFailure(`phase ${phase.name} used its ${phase.max_turns} passes of soundings without an accepted answer (${judged.feedback})`);
    feedback = judged.feedback;
  }
}
