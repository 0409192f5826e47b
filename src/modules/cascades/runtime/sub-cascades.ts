/** Waiting for child sessions from inside a phase, and reading their results: run_cascade, cascade validators, async_cascades. */
import { CapstanError } from '../../../kernel/index.ts';
import type { PhaseDefinition } from '../model/definition.ts';
import type { Verdict } from '../model/validators.ts';
import { TERMINAL, type CheckpointData, type Session } from '../model/session.ts';
import { resultOf } from '../store/index.ts';
import { PhaseFailure, type SessionRun } from './session-run.ts';

/**
 * The children `ids` once all have ended, in that order; 'blocked' when the session parked to wait for them (it is
 * woken when one ends and comes back here from `checkpoint`).
 */
export async function awaitChildren(run: SessionRun, ids: string[], checkpoint: CheckpointData): Promise<Session[] | 'blocked'> {
  for (;;) {
    const kids = await run.children.children.byIds(ids);
    const open = kids.filter((k) => !TERMINAL.has(k.status)).length;
    if (open === 0) {
      const byId = new Map(kids.map((k) => [k.id, k]));
      const missing = ids.find((id) => !byId.has(id));
      // A child row deleted by the retention cleanup before its parent read it.
      if (missing) throw new PhaseFailure(`child session ${missing} no longer exists`);
      return ids.map((id) => byId.get(id)!);
    }
    if ((await run.waitForChildren(open, checkpoint)) === 'blocked') return 'blocked';
  }
}

/** What a child's end says: its status and result (the tool result of run_cascade, a row of a for_each_row table). */
export function childOutcome(s: Session): { sessionId: string; status: string; output: unknown; error: string | null } {
  return { sessionId: s.id, status: s.status, output: resultOf(s), error: s.error };
}

/** A cascade validator's verdict: its result `{valid, reason}`; anything else, or a child that did not complete, is invalid. */
export function verdictOf(s: Session): Verdict {
  if (s.status !== 'completed') return { valid: false, reason: `validator cascade ${s.cascadeId} ended ${s.status}${s.error ? `: ${s.error}` : ''}` };
  const out = resultOf(s) as { valid?: unknown; reason?: unknown } | null;
  if (!out || typeof out !== 'object' || typeof out.valid !== 'boolean') return { valid: false, reason: `validator cascade ${s.cascadeId} did not answer {valid, reason}` };
  return { valid: out.valid, reason: typeof out.reason === 'string' ? out.reason : undefined };
}

/**
 * Starts the phase's async_cascades for `trigger` as detached children (ids from the phase visit and the entry, so a
 * resumed phase never starts one twice). One that cannot start (unknown cascade, bad inputs) is logged, not fatal.
 */
export async function startAsyncCascades(run: SessionRun, phase: PhaseDefinition, trigger: 'on_start' | 'on_end'): Promise<void> {
  const scope = { input: run.inputs, state: run.state, outputs: run.outputs };
  for (const [j, a] of phase.async_cascades.entries()) {
    if (a.trigger !== trigger) continue;
    const id = `${run.id}.${phase.name}.${run.completedCount}.async${j}`;
    try {
      const kid = await run.children.prepare(id, a.cascade, a.inputs, scope);
      await run.children.start(run.id, [kid], true);
      run.log({ phase: phase.name, turn: null, kind: 'async_cascade', content: { sessionId: id, cascadeId: a.cascade, trigger, started: true } });
    } catch (err) {
      if (!(err instanceof CapstanError)) throw err;
      run.log({ phase: phase.name, turn: null, kind: 'async_cascade', content: { sessionId: id, cascadeId: a.cascade, trigger, started: false, error: err.message } });
    }
  }
}
