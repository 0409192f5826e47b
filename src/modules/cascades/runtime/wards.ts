/**
 * Wards and loop_until over a phase's input and output, the same for LLM phases and soundings; every verdict is logged.
 * A validator that is a cascade runs as a child session first (ids from the phase visit and the place, so a phase
 * resumed after a crash finds the children it started); the phase parks while they run, then every verdict applies in
 * order as for any other validator.
 */
import { CapstanError } from '../../../kernel/index.ts';
import type { CascadeDefinition, PhaseDefinition, ValidatorRef } from '../model/definition.ts';
import type { CheckpointData } from '../model/session.ts';
import { runValidator, validatorName, type Verdict } from '../model/validators.ts';
import type { NewChild } from '../store/index.ts';
import { PhaseFailure, type SessionRun } from './session-run.ts';
import { awaitChildren, verdictOf } from './sub-cascades.ts';

/** The ward index loop_until's cascade verdict is kept under (wards are numbered from 0). */
export const LOOP_UNTIL = -1;

/** The cascade validators among `refs` (by their index), or none. */
function cascadesOf(refs: { at: number; ref: ValidatorRef }[]): { ward: number; cascade: string }[] {
  return refs.flatMap(({ at, ref }) => (typeof ref === 'object' && 'cascade' in ref ? [{ ward: at, cascade: ref.cascade }] : []));
}

/**
 * Runs the cascade validators `checks` on `value` (the child's input `output`) as child sessions with ids
 * `<session>.<phase>.<visit>.<tag>.<ward>`, and returns their verdicts by ward index; 'blocked' when the session parked
 * to wait for them (it resumes from `checkpoint`, which must lead back here with the same tag).
 */
export async function cascadeVerdicts(run: SessionRun, phase: PhaseDefinition, checks: { ward: number; cascade: string }[], value: unknown, tag: string, checkpoint: (children: { ward: number; childId: string }[]) => CheckpointData): Promise<Map<number, Verdict> | 'blocked'> {
  const verdicts = new Map<number, Verdict>();
  if (checks.length === 0) return verdicts;
  const children = checks.map((c) => ({ ward: c.ward, childId: `${run.id}.${phase.name}.${run.completedCount}.${tag}.${c.ward === LOOP_UNTIL ? 'loop' : c.ward}` }));
  const defs = new Map<string, CascadeDefinition>();
  const kids: NewChild[] = [];
  try {
    for (const [k, c] of checks.entries()) kids.push(await run.children.prepare(children[k]!.childId, c.cascade, { output: value }, null, defs));
    await run.children.start(run.id, kids);
  } catch (err) {
    if (err instanceof CapstanError) throw new PhaseFailure(`phase ${phase.name}: cascade validator: ${err.message}`);
    throw err;
  }
  const ended = await awaitChildren(run, children.map((c) => c.childId), checkpoint(children));
  if (ended === 'blocked') return 'blocked';
  children.forEach((c, k) => verdicts.set(c.ward, verdictOf(ended[k]!)));
  return verdicts;
}

/**
 * Runs the pre wards on what goes into the phase (cascade validators as child sessions first: 'blocked' while they
 * run; `checkpoint` is written when parking and must restart the phase, which finds the same children); a failing
 * blocking or retry ward fails the phase (there is nothing to retry).
 */
export async function checkPreWards(run: SessionRun, phase: PhaseDefinition, input: string, checkpoint: CheckpointData): Promise<'ok' | 'blocked'> {
  const wards = phase.wards?.pre ?? [];
  const verdicts = await cascadeVerdicts(run, phase, cascadesOf(wards.map((w, at) => ({ at, ref: w.validator }))), input, 'pre', () => checkpoint);
  if (verdicts === 'blocked') return 'blocked';
  for (const [j, w] of wards.entries()) {
    const v = verdicts.get(j) ?? runValidator(w.validator, input);
    run.log({ phase: phase.name, turn: 0, kind: 'validation', content: { stage: 'pre', validator: validatorName(w.validator), mode: w.mode, valid: v.valid, reason: v.reason } });
    if (!v.valid && w.mode !== 'advisory') throw new PhaseFailure(`pre ward ${validatorName(w.validator)} blocked phase ${phase.name}: ${v.reason ?? 'invalid'}`);
  }
  return 'ok';
}

/** What the post wards and loop_until say about an answer. */
export interface Judgement {
  /** Why the answer is not accepted (sent back as feedback), or undefined when it is. */
  feedback?: string;
  /** Retry-ward attempts spent so far, this one included. */
  attempts: number;
}

/**
 * Judges an answer: the cascade validators of the post wards and loop_until run as child sessions first (all at once;
 * 'blocked' while they run, resuming from `checkpoint(children)` with the same `tag`), then `judgeOutput`.
 */
export async function judgeAnswer(run: SessionRun, phase: PhaseDefinition, output: unknown, turn: number, attempts: number, tag: string, checkpoint: (children: { ward: number; childId: string }[]) => CheckpointData): Promise<Judgement | 'blocked'> {
  const refs = (phase.wards?.post ?? []).map((w, at) => ({ at, ref: w.validator }));
  if (phase.loop_until !== undefined) refs.push({ at: LOOP_UNTIL, ref: phase.loop_until });
  const verdicts = await cascadeVerdicts(run, phase, cascadesOf(refs), output, tag, checkpoint);
  if (verdicts === 'blocked') return 'blocked';
  return judgeOutput(run, phase, output, turn, attempts, verdicts);
}

/**
 * Runs the post wards (cascade validators' verdicts given), then loop_until, on `output` at `turn`. A blocking ward, or a retry ward out of attempts, fails
 * the phase; a retry ward or loop_until that fails gives the feedback for another try; advisory wards only log.
 */
export function judgeOutput(run: SessionRun, phase: PhaseDefinition, output: unknown, turn: number, attempts: number, cascadeVerdicts?: ReadonlyMap<number, Verdict>): Judgement {
  for (const [j, w] of (phase.wards?.post ?? []).entries()) {
    // Cascade validators ran as child sessions before this call; their verdicts come in by ward index.
    const v = cascadeVerdicts?.get(j) ?? runValidator(w.validator, output);
    run.log({ phase: phase.name, turn, kind: 'validation', content: { stage: 'post', validator: validatorName(w.validator), mode: w.mode, valid: v.valid, reason: v.reason, attempt: attempts + 1 } });
    if (v.valid || w.mode === 'advisory') continue;
    if (w.mode === 'blocking') throw new PhaseFailure(`ward ${validatorName(w.validator)} blocked phase ${phase.name}: ${v.reason ?? 'invalid'}`);
    const spent = attempts + 1;
    if (spent >= w.max_attempts) throw new PhaseFailure(`ward ${validatorName(w.validator)} still failed after ${spent} attempts in phase ${phase.name}: ${v.reason ?? 'invalid'}`);
    return { feedback: `${validatorName(w.validator)}: ${v.reason ?? 'invalid'}`, attempts: spent };
  }
  if (phase.loop_until !== undefined) {
    const v = cascadeVerdicts?.get(LOOP_UNTIL) ?? runValidator(phase.loop_until, output);
    run.log({ phase: phase.name, turn, kind: 'validation', content: { stage: 'loop_until', validator: validatorName(phase.loop_until), valid: v.valid, reason: v.reason } });
    if (!v.valid) return { feedback: `${validatorName(phase.loop_until)}: ${v.reason ?? 'not yet'}`, attempts };
  }
  return { attempts };
}
