/**
 * One trial after sampling: effectuate → settle → reconnoiter (objectives, observations, guardrails at once) →
 * guardrails. Every failure becomes a failed outcome with its reason; no error ever becomes a value.
 */
import { monotonicMs, parseDuration, sleepUnlessAborted } from '../../../kernel/index.ts';
import type { Definition } from '../model/definition.ts';
import type { Params } from '../model/space.ts';
import type { TrialOutcome } from '../store/index.ts';
import { effectuate, type EffectuationPolicy } from './effectuate.ts';
import { reconnoiter } from './reconnoiter.ts';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** How far a reading lies outside a guardrail's bounds (0 inside). */
export function violation(g: { min?: number | undefined; max?: number | undefined }, v: number): number {
  if (g.max !== undefined && v > g.max) return v - g.max;
  if (g.min !== undefined && v < g.min) return g.min - v;
  return 0;
}

/** Runs one trial of `params`; throws only when `signal` aborts (the worker is closing). */
export async function runTrial(def: Definition, params: Params, ctx: { number: number; breeder: { id: string; name: string } }, policy: EffectuationPolicy, signal: AbortSignal): Promise<TrialOutcome> {
  const durations: Record<string, number> = {};
  const fail = (error: string, rest: Partial<TrialOutcome> = {}): TrialOutcome => ({ state: 'fail', values: null, observations: null, constraints: null, error, durations, ...rest });
  let t = monotonicMs();
  const lap = (phase: string) => {
    const now = monotonicMs();
    durations[phase] = now - t;
    t = now;
  };
  try {
    await effectuate(def.effectuation, { params, trial: { number: ctx.number }, breeder: ctx.breeder }, policy, signal);
  } catch (err) {
    signal.throwIfAborted();
    lap('effectuate');
    return fail(`effectuation: ${message(err)}`);
  }
  lap('effectuate');
  const metrics = [...def.objectives, ...def.observations, ...def.guardrails];
  const settle = Math.max(0, ...metrics.map((m) => parseDuration(m.settle)));
  if (settle > 0) await sleepUnlessAborted(settle, signal);
  signal.throwIfAborted();
  lap('settle');
  const read = (list: readonly (typeof metrics)[number][]) => Promise.allSettled(list.map((m) => reconnoiter(m, signal)));
  const [objectives, observations, guardrails] = await Promise.all([read(def.objectives), read(def.observations), read(def.guardrails)]);
  signal.throwIfAborted();
  lap('reconnoiter');
  const obs = Object.fromEntries(def.observations.map((m, i) => [m.name, observations[i]!.status === 'fulfilled' ? observations[i]!.value : null]));
  for (const [i, r] of objectives.entries()) if (r.status === 'rejected') return fail(`reconnaissance of ${def.objectives[i]!.name}: ${message(r.reason)}`, { observations: obs });
  const values = objectives.map((r) => (r as PromiseFulfilledResult<number>).value);
  for (const [i, r] of guardrails.entries()) if (r.status === 'rejected') return fail(`guardrail ${def.guardrails[i]!.name} could not be read: ${message(r.reason)}`, { values, observations: obs });
  const readings = guardrails.map((r) => (r as PromiseFulfilledResult<number>).value);
  const constraints = def.guardrails.map((g, i) => violation(g, readings[i]!));
  for (const [i, g] of def.guardrails.entries()) obs[g.name] = readings[i]!;
  const broken = def.guardrails.findIndex((_, i) => constraints[i]! > 0);
  if (broken >= 0) {
    const g = def.guardrails[broken]!;
    return fail(`guardrail ${g.name}: ${readings[broken]} outside [${g.min ?? '-∞'}, ${g.max ?? '∞'}]`, { values, observations: obs, constraints });
  }
  // An observation is recorded, never optimized, so a failed one does not fail the trial; but its reading is null and
  // the reason must stay with the trial, or nobody can tell a broken evaluator from a missing value.
  const lost = def.observations.flatMap((m, i) => (observations[i]!.status === 'rejected' ? [`observation ${m.name} could not be read: ${message((observations[i] as PromiseRejectedResult).reason)}`] : []));
  return { state: 'complete', values, observations: obs, constraints: constraints.length ? constraints : null, error: lost.length ? lost.join('; ') : null, durations };
}
