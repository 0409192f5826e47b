/**
 * A frozen session for snapshot tests: the model's replies and the people's answers as the session's log recorded
 * them, and each phase's input (the first request the phase sent) and output, so a replay against a changed
 * definition can say which phase changed.
 */
import * as z from 'zod';
import { jsonEqual, type ToolCall } from '../../../kernel/index.ts';

/** The file format tag (bumped when the shape changes). */
export const SNAPSHOT_FORMAT = 'capstan.cascade-snapshot/1';

/** One recorded model reply: its text and tool calls, the model that gave it, its usage. */
export interface RecordedReply {
  text: string;
  toolCalls: ToolCall[];
  model: string;
  tokensIn: number;
  tokensOut: number;
}

/** What a phase was given and gave: `input` is its first request (model and messages), `output` its result. */
export interface PhaseTrace {
  phase: string;
  input: { model: string; messages: unknown[] } | null;
  output: unknown;
}

/** The recording a replay answers from. */
export interface Recording {
  sessionId: string;
  inputs: Record<string, unknown>;
  /** Replies by `<phase>|<call>`, in the order they were made: `turn` for phase turns, the sounding attempt or `evaluator` otherwise. */
  replies: Record<string, RecordedReply[]>;
  /** People's answers: human phases by `phase:<name>` in visit order, ask_human questions by checkpoint id. */
  answers: Record<string, unknown[]>;
}

/** A snapshot file. */
export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  cascadeId: string;
  frozenAt: string;
  /** The definition the session ran (a replay uses it unless given another). */
  spec: unknown;
  recording: Recording;
  /** The phases as replaying the recording against `spec` produced them. */
  phases: PhaseTrace[];
  /** How that replay ended: a later replay that ends otherwise (fails where it completed) is a change too. */
  status: 'completed' | 'failed' | 'blocked';
}

const reply = z.object({ text: z.string(), toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.unknown() })), model: z.string(), tokensIn: z.number(), tokensOut: z.number() });

/** The file's schema, so a hand-edited or foreign file is refused naming the field. */
export const snapshotSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  cascadeId: z.string(),
  frozenAt: z.string(),
  spec: z.record(z.string(), z.unknown()),
  recording: z.object({ sessionId: z.string(), inputs: z.record(z.string(), z.unknown()), replies: z.record(z.string(), z.array(reply)), answers: z.record(z.string(), z.array(z.unknown())) }),
  phases: z.array(z.object({ phase: z.string(), input: z.object({ model: z.string(), messages: z.array(z.unknown()) }).nullable(), output: z.unknown() })),
  status: z.enum(['completed', 'failed', 'blocked']),
});

/** A log row as the API lists it (the fields a recording reads). */
export interface LogRowLike {
  phase?: string | null;
  kind: string;
  soundingIndex?: number | null;
  model?: string | null;
  tokensIn?: number | null;
  tokensOut?: number | null;
  content?: unknown;
}

const push = <T>(m: Record<string, T[]>, k: string, v: T) => (m[k] ??= []).push(v);

/**
 * Builds the recording from a session's log: assistant turns, sounding attempts and evaluator picks become replies;
 * human phase outputs and ask_human results become answers. Calls the log does not keep (a reply refused by the
 * output schema, a malformed tool call, a failed attempt) are not replayed.
 */
export function recordingFromLogs(sessionId: string, inputs: Record<string, unknown>, logs: LogRowLike[], humanPhases: ReadonlySet<string>): Recording {
  const replies: Record<string, RecordedReply[]> = {};
  const answers: Record<string, unknown[]> = {};
  for (const l of logs) {
    const c = (l.content ?? {}) as Record<string, any>;
    const usage = { model: l.model ?? '', tokensIn: l.tokensIn ?? 0, tokensOut: l.tokensOut ?? 0 };
    const round = typeof c.round === 'number' ? c.round : 0;
    // A sounding attempt's turns with tool calls are replayed under its attempt's call, before its final answer.
    const attempt = l.soundingIndex !== null && l.soundingIndex !== undefined ? (round === 0 ? String(l.soundingIndex) : `r${round}.${l.soundingIndex}`) : 'turn';
    if (l.kind === 'assistant') push(replies, `${l.phase}|${attempt}`, { text: c.text ?? '', toolCalls: c.toolCalls ?? [], ...usage });
    else if (l.kind === 'sounding' && c.error === undefined && l.soundingIndex !== null && l.soundingIndex !== undefined) {
      const call = round === 0 ? String(l.soundingIndex) : `r${round}.${l.soundingIndex}`;
      push(replies, `${l.phase}|${call}`, { text: typeof c.output === 'string' ? c.output : JSON.stringify(c.output), toolCalls: [], ...usage });
    } else if (l.kind === 'evaluator' && typeof c.winner === 'number') {
      const call = round === 0 ? 'evaluator' : `r${round}.evaluator`;
      push(replies, `${l.phase}|${call}`, { text: '', toolCalls: [{ id: `pick-${round}`, name: 'pick_winner', arguments: { index: c.winner, reason: c.reason ?? '' } }], ...usage });
    } else if (l.kind === 'tool' && c.name === 'ask_human' && typeof c.checkpointId === 'string' && c.result !== 'waiting for a person') push(answers, c.checkpointId, c.result);
    else if (l.kind === 'phase' && l.phase && humanPhases.has(l.phase)) push(answers, `phase:${l.phase}`, c.output ?? null);
  }
  return { sessionId, inputs, replies, answers };
}

/** How one phase differs between the frozen session and a replay. */
export interface PhaseChange {
  phase: string;
  /** `input` (its first request), `output`, `missing` (the replay did not complete it) or `new` (only the replay did). */
  what: 'input' | 'output' | 'missing' | 'new';
  before?: unknown;
  after?: unknown;
}

/** The changes between the frozen phases and the replayed ones (matched by name and visit, in order). */
export function phaseChanges(frozen: PhaseTrace[], replayed: PhaseTrace[]): PhaseChange[] {
  const key = (list: PhaseTrace[]) => {
    const visits = new Map<string, number>();
    return list.map((p) => {
      const n = (visits.get(p.phase) ?? 0) + 1;
      visits.set(p.phase, n);
      return [`${p.phase}#${n}`, p] as const;
    });
  };
  const after = new Map(key(replayed));
  const changes: PhaseChange[] = [];
  for (const [k, before] of key(frozen)) {
    const now = after.get(k);
    after.delete(k);
    if (!now) changes.push({ phase: before.phase, what: 'missing', before: before.output });
    else {
      if (!jsonEqual(before.input, now.input)) changes.push({ phase: before.phase, what: 'input', before: before.input, after: now.input });
      if (!jsonEqual(before.output, now.output)) changes.push({ phase: before.phase, what: 'output', before: before.output, after: now.output });
    }
  }
  for (const now of after.values()) changes.push({ phase: now.phase, what: 'new', after: now.output });
  return changes;
}
