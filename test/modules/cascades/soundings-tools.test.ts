/**
 * Soundings combined with tools, and cascade validators beyond post wards, end to end in embedded mode (PGlite)
 * against the fake LLM as a child process: each sounding attempt runs its own tool loop with its own set_state
 * changes (the winner's reach the session); a cascade as a pre ward, as loop_until, and as a post ward of a soundings
 * phase runs as a child session while the phase parks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/kernel/boot/serve.ts';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { sessionIn, startCascadesServer } from '../../helpers/cascades-server.ts';
import type { JsonApi } from '../../helpers/json-api.ts';

const fake = fakeLlmForFile();
let server: RunningServer;
let api: JsonApi;
beforeAll(async () => {
  ({ server, api } = await startCascadesServer(fake.baseUrl));
}, 180_000); // a fresh PGlite (initdb + migrations) takes long on a loaded machine
afterAll(async () => {
  await server?.stop();
});

async function define(yaml: string): Promise<string> {
  const def = await api('POST', '/definitions', yaml, 'application/yaml');
  expect(def.status, JSON.stringify(def.body)).toBeLessThan(300);
  return def.body.cascadeId;
}

async function run(yaml: string, inputs: Record<string, unknown> = {}): Promise<string> {
  const id = await define(yaml);
  const r = await api('POST', `/definitions/${id}/runs`, { inputs });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.sessionId;
}

async function logsOf(id: string): Promise<Record<string, any>[]> {
  return (await api('GET', `/sessions/${id}/logs`)).body.items;
}

/** A validator cascade on its own fake model: its answer is `{valid, reason}`. */
const judge = (name: string) => `
cascade_id: ${name}
inputs_schema: { output: { type: string } }
model: fake/${name}
phases:
  - name: verdict
    instructions: "Judge it"
    output_schema: { type: object, required: [valid], properties: { valid: { type: boolean }, reason: { type: string } } }
`;

describe('soundings with tools, cascade validators (embedded)', () => {
  it('each sounding attempt runs its own tool loop; only the winner\'s set_state reaches the session', async () => {
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { match: { header: { 'x-capstan-sounding': '0' } }, toolCalls: [{ name: 'set_state', arguments: { key: 'colour', value: 'red' } }] },
        { match: { header: { 'x-capstan-sounding': '0' } }, text: 'red it is' },
        { match: { header: { 'x-capstan-sounding': '1' } }, toolCalls: [{ name: 'set_state', arguments: { key: 'colour', value: 'blue' } }] },
        { match: { header: { 'x-capstan-sounding': '1' } }, text: 'blue it is' },
        { match: { header: { 'x-capstan-sounding': 'evaluator' } }, toolCalls: [{ name: 'pick_winner', arguments: { index: 1, reason: 'calmer' } }] },
        { match: { model: 'after' }, text: 'done', times: 'always' },
      ],
    });
    const id = await run(`
cascade_id: tooled-soundings
model: fake/gpt-test
phases:
  - name: pick
    instructions: "Pick a colour and store it with set_state"
    tools: [set_state]
    max_turns: 3
    soundings: { factor: 2, evaluator: "Pick the calmer colour" }
  - name: paint
    model: fake/after
    instructions: "Paint it {{ state.colour }}"
`);
    const s = await sessionIn(api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.pick).toBe('blue it is');
    expect(s.state).toEqual({ colour: 'blue' });
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    // Each attempt's second turn has its own tool result and nothing of the other attempt.
    const second = (i: string) => JSON.stringify(seen.filter((r) => r.headers['x-capstan-sounding'] === i)[1]!.messages);
    expect(second('0')).toContain('state.colour set');
    expect(second('0')).not.toContain('blue');
    expect(second('1')).not.toContain('red');
    expect(seen.find((r) => r.headers['x-capstan-sounding'] === '0')!.tools).toBeDefined();
    expect(JSON.stringify(seen.find((r) => r.model === 'after')!.messages)).toContain('Paint it blue');
    const logs = await logsOf(id);
    const tools = logs.filter((l) => l.kind === 'tool').map((l) => [l.soundingIndex, l.content.name, l.content.arguments.value]);
    expect(tools.sort()).toEqual([
      [0, 'set_state', 'red'],
      [1, 'set_state', 'blue'],
    ]);
    const rows = logs.filter((l) => l.kind === 'sounding').map((l) => [l.soundingIndex, l.winner, l.content.output, l.content.turns, l.content.state]);
    expect(rows.sort()).toEqual([
      [0, false, 'red it is', 2, { colour: 'red' }],
      [1, true, 'blue it is', 2, { colour: 'blue' }],
    ]);
  });

  it('refuses tools that park the session or share its browser in a soundings phase, naming the field', async () => {
    const r = await api('POST', '/definitions', `
cascade_id: bad-soundings
model: fake/gpt-test
phases:
  - name: p
    instructions: "x"
    tools: [set_state, ask_human]
    soundings: { factor: 2, evaluator: "Pick" }
`, 'application/yaml');
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('phases.0.tools.1');
    expect(JSON.stringify(r.body)).toContain('one person would get the same question from each attempt');
  });

  it('a cascade as a blocking pre ward: the phase parks while it runs, and its verdict blocks or lets the phase run', async () => {
    await define(judge('judgepre'));
    await fake.script({
      replies: [
        { match: { model: 'judgepre', lastUser: 'secret' }, json: { valid: false, reason: 'no secrets' }, times: 'always' },
        { match: { model: 'judgepre' }, json: { valid: true }, times: 'always' },
        { match: { model: 'w1' }, text: 'written', times: 'always' },
      ],
    });
    const yaml = `
cascade_id: prewarded
inputs_schema: { topic: { type: string } }
model: fake/w1
phases:
  - name: write
    instructions: "Write about {{ input.topic }}"
    wards: { pre: [{ validator: no_pii, mode: blocking }, { validator: { cascade: judgepre }, mode: blocking }] }
`;
    const blocked = await run(yaml, { topic: 'secret plans' });
    const ok = await run(yaml, { topic: 'tides' });
    const b = await sessionIn(api, blocked, ['completed', 'error'], 30_000);
    expect(b.status).toBe('error');
    expect(b.error).toBe('pre ward cascade:judgepre blocked phase write: no secrets');
    const o = await sessionIn(api, ok, ['completed', 'error'], 30_000);
    expect(o.status, o.error).toBe('completed');
    expect(o.outputs.write).toBe('written');
    const v = (await logsOf(ok)).filter((l) => l.kind === 'validation').map((l) => [l.content.stage, l.content.validator, l.content.valid]);
    expect(v).toEqual([
      ['pre', 'no_pii', true],
      ['pre', 'cascade:judgepre', true],
    ]);
    const kids = (await api('GET', `/sessions?parent=${ok}`)).body.items as Record<string, any>[];
    expect(kids.map((k) => [k.id, k.cascadeId, k.status])).toEqual([[`${ok}.write.0.pre.1`, 'judgepre', 'completed']]);
    // The blocked session's model was never called.
    expect((await fake.stats()).requests.some((r) => r.model === 'w1' && JSON.stringify(r.messages).includes('secret plans'))).toBe(false);
  });

  it('a cascade as loop_until re-runs the phase with its reason until it says valid', async () => {
    await define(judge('judgeloop'));
    await fake.script({
      replies: [
        { match: { model: 'judgeloop', lastUser: 'draft answer' }, json: { valid: false, reason: 'still a draft' }, times: 'always' },
        { match: { model: 'judgeloop' }, json: { valid: true, reason: 'final' }, times: 'always' },
        { match: { model: 'w2', lastUser: 'still a draft' }, text: 'final answer', times: 'always' },
        { match: { model: 'w2' }, text: 'draft answer', times: 'always' },
      ],
    });
    const id = await run(`
cascade_id: looped
model: fake/w2
phases:
  - name: write
    instructions: "Write"
    loop_until: { cascade: judgeloop }
`);
    const s = await sessionIn(api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.write).toBe('final answer');
    const v = (await logsOf(id)).filter((l) => l.kind === 'validation').map((l) => [l.content.stage, l.content.validator, l.content.valid, l.content.reason ?? null]);
    expect(v).toEqual([
      ['loop_until', 'cascade:judgeloop', false, 'still a draft'],
      ['loop_until', 'cascade:judgeloop', true, 'final'],
    ]);
    const kids = (await api('GET', `/sessions?parent=${id}`)).body.items as Record<string, any>[];
    expect(kids.map((k) => k.id).sort()).toEqual([`${id}.write.0.v1.loop`, `${id}.write.0.v2.loop`]);
  });

  it('a cascade as a retry ward of a soundings phase judges the winner and runs the soundings again with its reason', async () => {
    await define(judge('judgesnd'));
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { match: { model: 'judgesnd', lastUser: 'meh' }, json: { valid: false, reason: 'too dull' }, times: 'always' },
        { match: { model: 'judgesnd' }, json: { valid: true }, times: 'always' },
        { match: { header: { 'x-capstan-sounding': '0' } }, text: 'meh 0' },
        { match: { header: { 'x-capstan-sounding': '1' } }, text: 'meh 1' },
        { match: { header: { 'x-capstan-sounding': 'evaluator' } }, toolCalls: [{ name: 'pick_winner', arguments: { index: 0 } }] },
        { match: { header: { 'x-capstan-sounding': 'r1.0' } }, text: 'great 0' },
        { match: { header: { 'x-capstan-sounding': 'r1.1' } }, text: 'great 1' },
        { match: { header: { 'x-capstan-sounding': 'r1.evaluator' } }, toolCalls: [{ name: 'pick_winner', arguments: { index: 1 } }] },
      ],
    });
    const id = await run(`
cascade_id: judged-soundings
model: fake/w3
phases:
  - name: headline
    instructions: "Write a headline"
    soundings: { factor: 2, evaluator: "Pick one" }
    wards: { post: [{ validator: { cascade: judgesnd }, mode: retry, max_attempts: 3 }] }
`);
    const s = await sessionIn(api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.headline).toBe('great 1');
    const v = (await logsOf(id)).filter((l) => l.kind === 'validation').map((l) => `${l.turn}:${l.content.validator}:${l.content.valid}`);
    expect(v).toEqual(['1:cascade:judgesnd:false', '2:cascade:judgesnd:true']);
    const retry = (await fake.stats()).requests.find((r) => r.headers['x-capstan-session'] === id && r.headers['x-capstan-sounding'] === 'r1.0')!;
    expect(JSON.stringify(retry.messages)).toContain('not accepted (cascade:judgesnd: too dull)');
    const kids = (await api('GET', `/sessions?parent=${id}`)).body.items as Record<string, any>[];
    expect(kids.map((k) => [k.id, k.status]).sort()).toEqual([
      [`${id}.headline.0.s0.0`, 'completed'],
      [`${id}.headline.0.s1.0`, 'completed'],
    ]);
  });
});
