/** Wards and loop_until over a phase's input and output, the same for LLM phases and soundings; every verdict is logged. */
import type { PhaseDefinition } from '../model/definition.ts';
import { runValidator, validatorName, type Verdict } from '../model/validators.ts';
import { PhaseFailure, type SessionRun } from './session-run.ts';

/** Runs the pre wards on what goes into the phase; a failing blocking or retry ward fails the phase (there is nothing to retry). */
export function checkPreWards(run: SessionRun, phase: PhaseDefinition, input: string): void {
  for (const w of phase.wards?.pre ?? []) {
    const v = runValidator(w.validator, input);
    run.log({ phase: phase.name, turn: 0, kind: 'validation', content: { stage: 'pre', validator: validatorName(w.validator), mode: w.mode, valid: v.valid, reason: v.reason } });
    if (!v.valid && w.mode !== 'advisory') throw new PhaseFailure(`pre ward ${validatorName(w.validator)} blocked phase ${phase.name}: ${v.reason ?? 'invalid'}`);
  }
}

/** What the post wards and loop_until say about an answer. */
export interface Judgement {
  /** Why the answer is not accepted (sent back as feedback), or undefined when it is. */
  feedback?: string;
  /** Retry-ward attempts spent so far, this one included. */
  attempts: number;
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
    const v = runValidator(phase.loop_until, output);
    run.log({ phase: phase.name, turn, kind: 'validation', content: { stage: 'loop_until', validator: validatorName(phase.loop_until), valid: v.valid, reason: v.reason } });
    if (!v.valid) return { feedback: `${validatorName(phase.loop_until)}: ${v.reason ?? 'not yet'}`, attempts };
  }
  return { attempts };
}
