/**
 * A soundings phase with tools, resumed after its worker died mid-round: each attempt's turns are checkpointed with its
 * own conversation and set_state changes, so the resumed run goes on with the unfinished attempt at its next turn,
 * never repeats a finished one, and only the winner's changes ever reach the session's state. A store that keeps the
 * writes in memory and an LLM answering by attempt and turn: no timing involved. Also: a signal reaches every running attempt.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/kernel/log.ts';
import type { ChatMessage, ChatRequest, ChatResult, LlmClient, ToolCall } from '../../../src/kernel/index.ts';
import { cascadesConfigSchema } from '../../../src/modules/cascades/config.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import type { CheckpointData, Session } from '../../../src/modules/cascades/model/session.ts';
import type { ChildRunner } from '../../../src/modules/cascades/runtime/children.ts';
import { NO_METRICS } from '../../../src/modules/cascades/runtime/metrics.ts';
import { PHASE_RUNNERS } from '../../../src/modules/cascades/runtime/phase-runners.ts';
import { SessionRun } from '../../../src/modules/cascades/runtime/session-run.ts';
import type { CascadeStore, PreparedTurn, SessionDataStore } from '../../../src/modules/cascades/store/index.ts';

const spec = checkDefinition({
  cascade_id: 'sounded-tools',
  model: 'fake/m',
  phases: [{ name: 'pick', instructions: 'Pick a colour and store it', tools: ['set_state'], max_turns: 3, soundings: { factor: 2, evaluator: 'Pick one' } }],
});

function result(text: string, toolCalls: ToolCall[] = []): ChatResult {
  const message = { role: 'assistant' as const, content: toolCalls.length > 0 ? null : text, toolCalls: toolCalls.length > 0 ? toolCalls : undefined };
  return { message, text, toolCalls, parsed: undefined, finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, cost: 0, model: { provider: 'fake', model: 'm', id: 'fake/m' }, requestedModel: 'fake/m', attempts: 1, id: 'x', latencyMs: 1 } as ChatResult;
}

/** The answer for attempt `which` (or the evaluator) at the point its conversation `messages` is at. */
function reply(which: string, messages: ChatMessage[]): ChatResult {
  if (which === 'evaluator') return result('', [{ id: 'e', name: 'pick_winner', arguments: { index: 1, reason: 'bolder' } }]);
  const colour = which === '0' ? 'red' : 'blue';
  // First turn: store the colour; after the tool result: answer with it.
  return messages.some((m) => m.role === 'tool') ? result(`I pick ${colour}`) : result('', [{ id: `c${which}`, name: 'set_state', arguments: { key: 'colour', value: colour } }]);
}

interface Harness {
  run: SessionRun;
  calls: { which: string; messages: ChatMessage[] }[];
  writes: PreparedTurn['params'][];
}

/** A run of `session` from `checkpoint`; `dieAt(which, turn)` true makes that call never answer and stops the run (the worker died). */
function harness(session: Session, checkpoint: CheckpointData | undefined, dieAt: (which: string, messages: ChatMessage[]) => boolean = () => false, signals: string[] = []): Harness {
  const calls: Harness['calls'] = [];
  const writes: Harness['writes'] = [];
  let run: SessionRun;
  const llm = {
    chat(req: ChatRequest) {
      const which = req.headers!['x-capstan-sounding']!;
      calls.push({ which, messages: structuredClone(req.messages) });
      // A signal event arrives while the first call is on its way.
      if (calls.length === 1 && signals.length > 0) run.beatNow();
      if (dieAt(which, req.messages)) {
        // The call is on its way when the worker dies: it never answers.
        run.stop('the worker died');
        return Promise.reject(req.signal!.reason as Error);
      }
      return Promise.resolve(reply(which, req.messages));
    },
  } as unknown as LlmClient;
  const store = {
    async writeTurn(p: PreparedTurn) {
      writes.push(p.params);
      return 0;
    },
    beat: async () => signals.splice(0),
  } as unknown as CascadeStore;
  const config = cascadesConfigSchema.parse({});
  run = new SessionRun({ store, llm, log: createLogger({ level: 'silent' }), config, metrics: NO_METRICS, data: {} as SessionDataStore, children: {} as ChildRunner, phases: PHASE_RUNNERS }, session, checkpoint);
  return { run, calls, writes };
}

const fresh = (): Session => ({ id: 's1', cascadeId: spec.cascade_id, spec, status: 'running', currentPhase: 'pick', inputs: {}, state: { kept: 1 }, outputs: {}, completed: [], error: null, cost: 0, tokensIn: 0, tokensOut: 0, owner: 'w', epoch: 1, recoveries: 0, heartbeatAt: null, createdAt: '', updatedAt: '', finishedAt: null, parentSessionId: null, detached: false, depth: 0 });

/** The session as the last write left it (state, outputs, completed) and that write's checkpoint. */
function afterWrites(writes: Harness['writes']): { session: Session; checkpoint: CheckpointData } {
  const last = writes[writes.length - 1]!;
  const s = fresh();
  s.state = JSON.parse(last[3] as string);
  s.outputs = JSON.parse(last[4] as string);
  s.completed = JSON.parse(last[5] as string);
  s.epoch = 2;
  return { session: s, checkpoint: JSON.parse(last[11] as string) };
}

describe('soundings with tools, resumed mid-round', () => {
  it('the resumed run continues the unfinished attempt at its next turn, reruns no finished one, and keeps only the winner\'s set_state', async () => {
    // Attempt 1's second turn never comes back: the worker dies after attempt 0 has answered.
    const first = harness(fresh(), undefined, (which, messages) => which === '1' && messages.some((m) => m.role === 'tool'));
    expect(await first.run.execute()).toBe('stopped');
    const attemptCalls = first.calls.filter((c) => c.which !== 'evaluator').map((c) => c.which).sort();
    expect(attemptCalls).toEqual(['0', '0', '1', '1']);
    // No attempt's set_state reached the session's state while the round ran.
    for (const w of first.writes) expect(JSON.parse(w[3] as string)).toEqual({ kept: 1 });

    const { session, checkpoint } = afterWrites(first.writes);
    expect(checkpoint.soundings?.attempts.map((a) => [a.i, a.turn, a.changes, a.done?.output ?? null])).toEqual([
      [0, 2, { colour: 'red' }, 'I pick red'],
      [1, 1, { colour: 'blue' }, null],
    ]);

    const second = harness(session, checkpoint);
    expect(await second.run.execute()).toBe('completed');
    // Only attempt 1's second turn and the evaluator: attempt 0 is not asked again, attempt 1 goes on with its own tool result.
    expect(second.calls.map((c) => c.which)).toEqual(['1', 'evaluator']);
    const resumed = second.calls[0]!.messages;
    expect(resumed.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual(['state.colour set']);
    expect(JSON.stringify(resumed)).not.toContain('red');
    const evaluator = JSON.stringify(second.calls[1]!.messages);
    expect(evaluator).toContain('I pick red');
    expect(evaluator).toContain('state it sets: {\\"colour\\":\\"blue\\"}');
    const end = afterWrites(second.writes).session;
    expect(end.outputs).toEqual({ pick: 'I pick blue' });
    expect(end.state).toEqual({ kept: 1, colour: 'blue' });
    const logs = second.writes.flatMap((w) => JSON.parse(w[12] as string) as Record<string, any>[]);
    expect(logs.filter((l) => l.kind === 'sounding').map((l) => [l.sounding_index, l.winner, l.content.output, l.content.state])).toEqual([
      [0, 'false', 'I pick red', { colour: 'red' }],
      [1, 'true', 'I pick blue', { colour: 'blue' }],
    ]);
  });

  it('a signal that arrives while attempts run reaches each running attempt at its next turn, logged once', async () => {
    const h = harness(fresh(), undefined, () => false, ['prefer warm colours']);
    expect(await h.run.execute()).toBe('completed');
    for (const i of ['0', '1']) {
      const [first, second] = h.calls.filter((c) => c.which === i);
      expect(JSON.stringify(first!.messages)).not.toContain('prefer warm colours');
      expect(second!.messages.at(-1)).toEqual({ role: 'user', content: 'Signal from the operator: prefer warm colours' });
    }
    const logs = h.writes.flatMap((w) => JSON.parse(w[12] as string) as Record<string, any>[]);
    expect(logs.filter((l) => l.kind === 'signal').map((l) => l.content.text)).toEqual(['prefer warm colours']);
  });
});
