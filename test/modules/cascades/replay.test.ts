/**
 * Snapshot replay logic (no network, no database by design): a recording built from log rows of soundings, a human
 * phase and an ask_human question replays to the same outputs; a changed prompt shows up as that phase's input change,
 * and a definition that needs a call the recording lacks fails the replay at that phase.
 */
import { describe, expect, it } from 'vitest';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { phaseChanges, recordingFromLogs, type LogRowLike } from '../../../src/modules/cascades/model/snapshot.ts';
import { replaySession } from '../../../src/modules/cascades/runtime/replay.ts';

const SID = 'sess-1';
const def = (draftInstructions = 'Draft a post about {{ outputs.pick }}') =>
  checkDefinition({
    cascade_id: 'replayed',
    model: 'fake/m',
    phases: [
      { name: 'pick', instructions: 'Pitch a headline', soundings: { factor: 3, evaluator: 'Pick the best' } },
      { name: 'approve', human_input: { prompt: 'OK?' } },
      { name: 'draft', instructions: draftInstructions, tools: ['ask_human'] },
    ],
  });

// The log a session of `def()` wrote, as the API lists it.
const LOGS: LogRowLike[] = [
  { phase: 'pick', kind: 'evaluator', model: 'fake/m', content: { winner: 1, reason: 'punchier', round: 0 } },
  { phase: 'pick', kind: 'sounding', soundingIndex: 0, model: 'fake/m', content: { output: 'Tides', round: 0 } },
  { phase: 'pick', kind: 'sounding', soundingIndex: 1, model: 'fake/m', content: { output: 'The Moon Pulls', round: 0 } },
  { phase: 'pick', kind: 'sounding', soundingIndex: 2, model: 'fake/m', content: { output: 'Water', round: 0 } },
  { phase: 'pick', kind: 'phase', content: { output: 'The Moon Pulls', next: 'approve' } },
  { phase: 'approve', kind: 'phase', content: { output: 'yes', next: 'draft' } },
  { phase: 'draft', kind: 'assistant', model: 'fake/m', tokensIn: 5, tokensOut: 3, content: { text: '', toolCalls: [{ id: 'c1', name: 'ask_human', arguments: { question: 'Long or short?' } }] } },
  { phase: 'draft', kind: 'tool', content: { name: 'ask_human', checkpointId: `${SID}.draft.2.ask1`, ok: true, result: 'waiting for a person' } },
  { phase: 'draft', kind: 'tool', content: { name: 'ask_human', checkpointId: `${SID}.draft.2.ask1`, ok: true, result: 'short' } },
  { phase: 'draft', kind: 'assistant', model: 'fake/m', tokensIn: 9, tokensOut: 4, content: { text: 'A short post.', toolCalls: [] } },
  { phase: 'draft', kind: 'phase', content: { output: 'A short post.', next: null } },
];

describe('snapshot replay', () => {
  it('replays soundings, a human phase and an ask_human question to the recorded outputs', async () => {
    const recording = recordingFromLogs(SID, {}, LOGS, new Set(['approve']));
    expect(Object.keys(recording.replies).sort()).toEqual(['draft|turn', 'pick|0', 'pick|1', 'pick|2', 'pick|evaluator']);
    expect(recording.answers).toEqual({ 'phase:approve': ['yes'], [`${SID}.draft.2.ask1`]: ['short'] });
    const r = await replaySession(def(), recording);
    expect(r.error).toBeNull();
    expect(r.status).toBe('completed');
    expect(r.phases.map((p) => [p.phase, p.output])).toEqual([
      ['pick', 'The Moon Pulls'],
      ['approve', 'yes'],
      ['draft', 'A short post.'],
    ]);
    expect(JSON.stringify(r.phases[2]!.input)).toContain('Draft a post about The Moon Pulls');
    expect(phaseChanges(r.phases, (await replaySession(def(), recording)).phases)).toEqual([]);
  });

  it('names the phase whose prompt changed; a definition needing an unrecorded call fails at that phase', async () => {
    const recording = recordingFromLogs(SID, {}, LOGS, new Set(['approve']));
    const frozen = (await replaySession(def(), recording)).phases;
    const edited = await replaySession(def('Write about {{ outputs.pick }}'), recording);
    expect(phaseChanges(frozen, edited.phases).map((c) => [c.phase, c.what])).toEqual([['draft', 'input']]);

    const more = checkDefinition({ ...def(), phases: [...def().phases, { name: 'polish', instructions: 'Polish', tools: [], max_turns: 1 }] });
    const r = await replaySession(more, recording);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/no recorded reply for call 1 of polish\|turn/);
    expect(phaseChanges(frozen, r.phases)).toEqual([]);
  });

  it('replays soundings with tools: each attempt\'s tool-calling turns, then its answer', async () => {
    const tooled = checkDefinition({ cascade_id: 'tooled', model: 'fake/m', phases: [{ name: 'pick', instructions: 'Pick a colour', tools: ['set_state'], soundings: { factor: 2, evaluator: 'Pick one' } }] });
    const setColour = (i: number, value: string) => ({ phase: 'pick', kind: 'assistant', soundingIndex: i, model: 'fake/m', content: { text: '', toolCalls: [{ id: `c${i}`, name: 'set_state', arguments: { key: 'colour', value } }], round: 0 } });
    const logs: LogRowLike[] = [
      setColour(0, 'red'),
      setColour(1, 'blue'),
      { phase: 'pick', kind: 'tool', soundingIndex: 0, content: { name: 'set_state', ok: true, result: 'state.colour set', round: 0 } },
      { phase: 'pick', kind: 'evaluator', model: 'fake/m', content: { winner: 1, reason: 'calmer', round: 0 } },
      { phase: 'pick', kind: 'sounding', soundingIndex: 0, model: 'fake/m', content: { output: 'red it is', round: 0 } },
      { phase: 'pick', kind: 'sounding', soundingIndex: 1, model: 'fake/m', content: { output: 'blue it is', round: 0 } },
      { phase: 'pick', kind: 'phase', content: { output: 'blue it is', next: null } },
    ];
    const recording = recordingFromLogs(SID, {}, logs, new Set());
    expect(recording.replies['pick|1']!.map((r) => r.toolCalls.length > 0 ? 'tools' : r.text)).toEqual(['tools', 'blue it is']);
    const r = await replaySession(tooled, recording);
    expect(r.error).toBeNull();
    expect(r.phases.map((p) => [p.phase, p.output])).toEqual([['pick', 'blue it is']]);
  });
});
