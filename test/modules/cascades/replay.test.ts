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
});
