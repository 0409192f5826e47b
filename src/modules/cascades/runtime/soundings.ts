/** Soundings: N attempts of a phase in parallel, a prefilter, and an evaluator that picks the winner by a tool call. */
import { interpolateText, type ChatResult } from '../../../kernel/index.ts';
import type { PhaseDefinition } from '../model/definition.ts';
import { runValidator } from '../model/validators.ts';
import { PhaseFailure, type PhaseResult, type SessionRun } from './session-run.ts';

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

/** Runs a soundings phase (no tools): attempts, prefilter, evaluator's `pick_winner` call. Every attempt is logged. */
export async function runSoundings(run: SessionRun, phase: PhaseDefinition): Promise<PhaseResult> {
  const s = phase.soundings!;
  const baseModel = phase.model ?? run.spec.model!;
  const system = interpolateText(phase.instructions!, { input: run.inputs, state: run.state, outputs: run.outputs });
  const context = [`Inputs: ${JSON.stringify(run.inputs)}`, ...phase.context.from.filter((f) => Object.hasOwn(run.outputs, f)).map((f) => `Output of phase ${f}:\n${JSON.stringify(run.outputs[f])}`)].join('\n\n');
  run.checkBudget();
  const indexes = Array.from({ length: s.factor }, (_, i) => i);
  const attempts = await pool(indexes, s.max_parallel ?? s.factor, async (i) => {
    const model = s.models ? s.models[i % s.models.length]! : baseModel;
    try {
      const res: ChatResult = await run.chat({
        model,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: context },
        ],
        responseFormat: phase.output_schema ? { type: 'json_schema', schema: phase.output_schema, name: phase.name.replace(/-/g, '_') } : undefined,
        signal: run.signal,
        headers: { 'x-capstan-session': run.id, 'x-capstan-sounding': String(i) },
      });
      run.charge(phase.name, res.model.id, res.usage.inputTokens, res.usage.outputTokens, res.cost);
      const output = phase.output_schema ? res.parsed : res.text;
      const passes = s.prefilter === 'json_ok' ? runValidator('json_ok', output).valid : true;
      return { i, output, passes, res };
    } catch (err) {
      if (run.signal.aborted) throw err;
      run.log({ phase: phase.name, turn: 1, kind: 'sounding', soundingIndex: i, winner: false, model, content: { error: (err as Error).message } });
      return { i, output: undefined, passes: false, res: undefined };
    }
  });
  const candidates = attempts.filter((a) => a.passes);
  if (candidates.length === 0) throw new PhaseFailure(`phase ${phase.name}: none of the ${s.factor} soundings passed the prefilter`);
  let winner = candidates[0]!.i;
  let reason = 'the only candidate';
  if (candidates.length > 1) {
    const listing = candidates.map((c) => `Candidate ${c.i}:\n${typeof c.output === 'string' ? c.output : JSON.stringify(c.output)}`).join('\n\n');
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
      headers: { 'x-capstan-session': run.id, 'x-capstan-sounding': 'evaluator' },
    });
    run.charge(phase.name, res.model.id, res.usage.inputTokens, res.usage.outputTokens, res.cost);
    const pick = res.toolCalls.find((t) => t.name === 'pick_winner')?.arguments as { index?: unknown; reason?: unknown } | undefined;
    if (!pick || !candidates.some((c) => c.i === pick.index)) {
      run.log({ phase: phase.name, turn: 1, kind: 'evaluator', model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, content: { error: 'no valid pick_winner call', text: res.text, toolCalls: res.toolCalls } });
      throw new PhaseFailure(`phase ${phase.name}: the evaluator did not pick a candidate with pick_winner`);
    }
    winner = pick.index as number;
    reason = typeof pick.reason === 'string' ? pick.reason : '';
    run.log({ phase: phase.name, turn: 1, kind: 'evaluator', model: res.model.id, tokensIn: res.usage.inputTokens, tokensOut: res.usage.outputTokens, cost: res.cost ?? null, content: { winner, reason } });
  }
  for (const a of attempts) {
    if (!a.res) continue;
    run.log({ phase: phase.name, turn: 1, kind: 'sounding', soundingIndex: a.i, winner: a.i === winner, model: a.res.model.id, tokensIn: a.res.usage.inputTokens, tokensOut: a.res.usage.outputTokens, cost: a.res.cost ?? null, durationMs: Math.round(a.res.latencyMs), content: { output: a.output, passedPrefilter: a.passes } });
  }
  return { output: attempts.find((a) => a.i === winner)!.output };
}
