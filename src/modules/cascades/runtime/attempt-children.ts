/**
 * run_cascade inside a soundings attempt. A plain phase waits for its children by parking the whole session; an
 * attempt cannot (the other attempts are in the middle of their model calls), so it waits in the worker instead,
 * holding the session's job and reading its children's status every CHILD_POLL_MS until all have ended. Each child is
 * a child session named by the phase visit, round, attempt, turn and call (`<session>.<phase>.<visit>.r<round>.a<i>.t<turn>.<call>`),
 * and the attempt's checkpoint lists the children it waits for: a session resumed on another worker waits for the
 * same children again (never starting them twice), and a child whose worker died is resumed by the sweeper as any
 * session. Cancelling the session cancels its running children. A losing attempt's children still run to their end.
 */
import { CapstanError, Invalid, type ChatMessage, type ToolCall } from '../../../kernel/index.ts';
import type { CascadeDefinition, PhaseDefinition } from '../model/definition.ts';
import { TERMINAL, type AttemptProgress, type LogEntry } from '../model/session.ts';
import type { NewChild } from '../store/index.ts';
import type { SessionRun } from './session-run.ts';
import { childOutcome } from './sub-cascades.ts';

/** How often a waiting attempt reads its children's status. */
export const CHILD_POLL_MS = 500;
/** Longest child result sent back to the model (characters). */
const MAX_CHILD_RESULT_CHARS = 8_000;

/** Waits `ms`, or less when `signal` aborts (then throws its reason). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Starts the run_cascade calls of one attempt turn as child sessions; returns the calls it did not take (other
 * tools) for the caller to run. A refused call (unknown cascade, bad inputs, too deep) gets its error as its result.
 * The children to wait for are left in `a.awaiting`.
 */
export async function startAttemptChildren(run: SessionRun, phase: PhaseDefinition, a: AttemptProgress, round: number, calls: ToolCall[], log: (e: Omit<LogEntry, 'phase' | 'turn' | 'soundingIndex'>) => void): Promise<ToolCall[]> {
  if (!phase.tools.includes('run_cascade')) return calls;
  const rest: ToolCall[] = [];
  const kids: NewChild[] = [];
  const awaiting: NonNullable<AttemptProgress['awaiting']> = [];
  const defs = new Map<string, CascadeDefinition>();
  for (const [ci, call] of calls.entries()) {
    if (call.name !== 'run_cascade') {
      rest.push(call);
      continue;
    }
    const childId = `${run.id}.${phase.name}.${run.completedCount}.r${round}.a${a.i}.t${a.turn}.${ci}`;
    const args = (call.arguments ?? {}) as { cascade?: unknown; inputs?: unknown };
    try {
      if (typeof args.cascade !== 'string') throw new Invalid('cascade must be the name of a saved cascade');
      if (args.inputs !== undefined && (args.inputs === null || typeof args.inputs !== 'object' || Array.isArray(args.inputs))) throw new Invalid('inputs must be an object');
      kids.push(await run.children.prepare(childId, args.cascade, (args.inputs ?? {}) as Record<string, unknown>, null, defs));
      awaiting.push({ toolCallId: call.id, childId });
      log({ kind: 'tool', content: { name: 'run_cascade', arguments: call.arguments, sessionId: childId, ok: true, result: 'started', round } });
    } catch (err) {
      if (!(err instanceof CapstanError)) throw err;
      a.messages.push({ role: 'tool', toolCallId: call.id, content: `error: ${err.message}` });
      log({ kind: 'tool', content: { name: 'run_cascade', arguments: call.arguments, ok: false, result: `error: ${err.message}`, round } });
    }
  }
  if (awaiting.length > 0) {
    try {
      await run.children.start(run.id, kids);
      a.awaiting = awaiting;
    } catch (err) {
      if (!(err instanceof CapstanError)) throw err;
      for (const w of awaiting) a.messages.push({ role: 'tool', toolCallId: w.toolCallId, content: `error: ${err.message}` });
      log({ kind: 'tool', content: { name: 'run_cascade', ok: false, result: `error: ${err.message}`, round } });
    }
  }
  return rest;
}

/** Waits (in the worker) until every child in `a.awaiting` has ended, then gives each outcome to its tool call. */
export async function finishAttemptChildren(run: SessionRun, a: AttemptProgress, round: number, log: (e: Omit<LogEntry, 'phase' | 'turn' | 'soundingIndex'>) => void): Promise<void> {
  const awaiting = a.awaiting;
  if (!awaiting) return;
  const ids = awaiting.map((w) => w.childId);
  for (;;) {
    const kids = await run.children.children.byIds(ids);
    const byId = new Map(kids.map((k) => [k.id, k]));
    // A missing child (deleted by the retention cleanup) counts as ended: the model is told.
    if (ids.every((id) => !byId.has(id) || TERMINAL.has(byId.get(id)!.status))) {
      const messages: ChatMessage[] = awaiting.map((w) => {
        const k = byId.get(w.childId);
        const text = k ? JSON.stringify(childOutcome(k)) : `error: child session ${w.childId} no longer exists`;
        log({ kind: 'tool', content: { name: 'run_cascade', sessionId: w.childId, ok: k?.status === 'completed', result: text.slice(0, 2000), round } });
        return { role: 'tool', toolCallId: w.toolCallId, content: text.length > MAX_CHILD_RESULT_CHARS ? `${text.slice(0, MAX_CHILD_RESULT_CHARS)}... (truncated)` : text };
      });
      a.messages.push(...messages);
      a.awaiting = undefined;
      return;
    }
    await pause(CHILD_POLL_MS, run.signal);
  }
}
