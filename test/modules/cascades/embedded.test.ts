/**
 * Cascades end to end in embedded mode against the fake LLM as a child process: a two-phase cascade with a real
 * tool call, structured output, wards, soundings, a human checkpoint, cancel, and provider failures; handoffs, loop_until,
 * token budgets, http_get's allowlist, human timeouts, and the module's series on /metrics.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
}, 180_000); // a fresh PGlite (initdb + migrations) took 55 s on this machine under a load of 20
afterAll(async () => {
  await server?.stop();
});

const BLOG = `
cascade_id: blog
inputs_schema: { topic: { type: string } }
model: fake/gpt-test
phases:
  - name: research
    instructions: "Research {{ input.topic }}; save notes with set_state."
    tools: [set_state]
    max_turns: 3
  - name: draft
    context: { from: [research] }
    instructions: "Write a post about {{ input.topic }} using {{ state.notes }}"
    output_schema: { type: object, required: [title, body], properties: { title: { type: string }, body: { type: string } } }
`;

/** Saves a definition and starts a session; returns its id. */
async function run(yaml: string, inputs: Record<string, unknown> = {}): Promise<string> {
  const def = await api('POST', '/definitions', yaml, 'application/yaml');
  expect(def.status, JSON.stringify(def.body)).toBeLessThan(300);
  const r = await api('POST', `/definitions/${def.body.cascadeId}/runs`, { inputs });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.sessionId;
}

async function logsOf(id: string): Promise<Record<string, any>[]> {
  return (await api('GET', `/sessions/${id}/logs`)).body.items;
}

describe('cascades (embedded)', () => {
  it('runs a two-phase cascade with a tool call and structured output to completion', async () => {
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { toolCalls: [{ name: 'set_state', arguments: { key: 'notes', value: 'tides follow the moon' } }], usage: { input: 10, output: 5 } },
        { text: 'research done: the moon drives tides', usage: { input: 20, output: 8 } },
        { json: { title: 'Tides', body: 'They follow the moon.' }, usage: { input: 30, output: 12 } },
      ],
    });
    const id = await run(BLOG, { topic: 'tides' });
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    expect(s.state).toEqual({ notes: 'tides follow the moon' });
    expect(s.outputs).toEqual({ research: 'research done: the moon drives tides', draft: { title: 'Tides', body: 'They follow the moon.' } });
    expect(s.completed).toEqual(['research', 'draft']);
    expect(s.tokensIn).toBe(60);
    expect(s.tokensOut).toBe(25);
    // prices: 1 per million input, 2 per million output
    expect(s.cost).toBeCloseTo((60 * 1 + 25 * 2) / 1e6, 12);
    expect(s.costs).toEqual([{ model: 'fake/gpt-test', calls: 3, tokensIn: 60, tokensOut: 25, cost: expect.closeTo((60 + 50) / 1e6, 12) }]);
    const logs = await logsOf(id);
    expect(logs.map((l) => `${l.phase}:${l.kind}`)).toEqual(['research:assistant', 'research:tool', 'research:assistant', 'research:phase', 'draft:assistant', 'draft:phase']);
    expect(logs[1]!.content).toMatchObject({ name: 'set_state', ok: true });
    expect(logs[0]).toMatchObject({ model: 'fake/gpt-test', tokensIn: 10, tokensOut: 5, turn: 1 });
    // The tool went over the native API, and the draft phase saw the research output and the state through its template.
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(seen).toHaveLength(3);
    expect(JSON.stringify(seen[0]!.tools)).toContain('set_state');
    const draftMsgs = JSON.stringify(seen[2]!.messages);
    expect(draftMsgs).toContain('using tides follow the moon');
    expect(draftMsgs).toContain('Output of phase research');
    expect(seen[2]!.responseFormat).toBeDefined();
  });

  it('refuses a bad definition and bad inputs naming the field, writing nothing', async () => {
    const bad = await api('POST', '/definitions', 'cascade_id: x\nmodel: m\nphases: [{name: a, instructions: hi, handoffs: [zz]}]', 'application/yaml');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((i: { path: string }) => i.path)).toContain('body.phases.0.handoffs.0');
    expect((await api('GET', '/definitions/x')).status).toBe(404);
    await api('POST', '/definitions', BLOG, 'application/yaml');
    const before = (await api('GET', '/sessions?cascade=blog')).body.items.length;
    const r = await api('POST', '/definitions/blog/runs', { inputs: { topic: 7 } });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ path: 'inputs.topic', message: 'expected string' }]);
    expect((await api('GET', '/sessions?cascade=blog')).body.items.length).toBe(before);
    expect((await api('POST', '/definitions/nope/runs', { inputs: {} })).status).toBe(404);
  });

  it('tells the model about a malformed tool call and goes on; a 429 is retried', async () => {
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { toolCalls: [{ name: 'set_state', rawArguments: '{"key": "notes", "value": ' }] },
        { error: { status: 429, retryAfterMs: 10 } },
        { toolCalls: [{ name: 'set_state', arguments: { key: 'notes', value: 'n' } }] },
        { text: 'ok' },
        { json: { title: 'T', body: 'B' } },
      ],
    });
    const id = await run(BLOG, { topic: 'x' });
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    const logs = await logsOf(id);
    const err = logs.find((l) => l.kind === 'error')!;
    expect(err.content.error).toBe('malformed_tool_call');
    // The model was shown its mistake as the tool result.
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(JSON.stringify(seen[1]!.messages)).toContain('not valid JSON');
  });

  it('fails the session with the provider error when 500s outlast the retries, and logs it', async () => {
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ error: { status: 500, message: 'boom' }, times: 'always' }] });
    const id = await run(BLOG, { topic: 'x' });
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status).toBe('error');
    expect(s.error).toMatch(/500|boom/);
    expect(s.currentPhase).toBe('research');
    const logs = await logsOf(id);
    expect(logs.at(-1)).toMatchObject({ kind: 'error', phase: 'research' });
  });

  it('wards: retry feeds the failure back, advisory only logs, blocking aborts with the reason', async () => {
    const WARDS = `
cascade_id: warded
model: fake/gpt-test
phases:
  - name: write
    instructions: "Write"
    wards: { post: [{ validator: non_empty, mode: advisory }, { validator: has_title, mode: retry, max_attempts: 3 }, { validator: no_pii, mode: blocking }] }
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'no heading here' }, { text: '# Title\nbody' }] });
    const ok = await run(WARDS);
    const s = await sessionIn(api, ok, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.write).toBe('# Title\nbody');
    const v = (await logsOf(ok)).filter((l) => l.kind === 'validation').map((l) => `${l.content.validator}:${l.content.valid}`);
    expect(v).toEqual(['non_empty:true', 'has_title:false', 'non_empty:true', 'has_title:true', 'no_pii:true']);
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === ok);
    expect(JSON.stringify(seen[1]!.messages)).toContain('has_title: the output has no title');

    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: '# Hi\nwrite to bob@example.com' }] });
    const blocked = await run(WARDS);
    const b = await sessionIn(api, blocked, ['completed', 'error']);
    expect(b.status).toBe('error');
    expect(b.error).toBe('ward no_pii blocked phase write: the output contains an e-mail address');
  });

  it('soundings: three attempts, the evaluator picks one by a tool call, every attempt logged with the winner flag', async () => {
    const SOUND = `
cascade_id: sounded
model: fake/gpt-test
phases:
  - name: pitch
    instructions: "Pitch a name"
    soundings: { factor: 3, evaluator: "Pick the catchiest" }
`;
    await fake.script({
      replies: [
        { match: { header: { 'x-capstan-sounding': '0' } }, text: 'alpha' },
        { match: { header: { 'x-capstan-sounding': '1' } }, text: 'beta' },
        { match: { header: { 'x-capstan-sounding': '2' } }, text: 'gamma' },
        { match: { header: { 'x-capstan-sounding': 'evaluator' } }, toolCalls: [{ name: 'pick_winner', arguments: { index: 1, reason: 'catchy' } }] },
      ],
    });
    const id = await run(SOUND);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.pitch).toBe('beta');
    const rows = (await logsOf(id)).filter((l) => l.kind === 'sounding').sort((a, b) => a.soundingIndex - b.soundingIndex);
    expect(rows.map((r) => [r.soundingIndex, r.winner, r.content.output])).toEqual([
      [0, false, 'alpha'],
      [1, true, 'beta'],
      [2, false, 'gamma'],
    ]);
    const evaluator = (await fake.stats()).requests.find((r) => r.headers['x-capstan-sounding'] === 'evaluator')!;
    expect(evaluator.toolChoice).toBeDefined();
  });

  it('soundings with mutate vary the prompt per attempt; reforge refines the winner, the standing winner competing', async () => {
    const REFORGED = `
cascade_id: reforged
model: fake/gpt-test
phases:
  - name: slogan
    instructions: "Write a slogan"
    soundings: { factor: 2, evaluator: "Pick the best", mutate: ["Be short.", "Be long."], reforge: { rounds: 1, factor: 1 } }
`;
    await fake.script({
      replies: [
        { match: { header: { 'x-capstan-sounding': '0' } }, text: 'tides!' },
        { match: { header: { 'x-capstan-sounding': '1' } }, text: 'the tides that follow the moon' },
        { match: { header: { 'x-capstan-sounding': 'evaluator' } }, toolCalls: [{ name: 'pick_winner', arguments: { index: 0, reason: 'short' } }] },
        { match: { header: { 'x-capstan-sounding': 'r1.0' } }, text: 'tides, always!' },
        { match: { header: { 'x-capstan-sounding': 'r1.evaluator' } }, toolCalls: [{ name: 'pick_winner', arguments: { index: 0, reason: 'better' } }] },
      ],
    });
    const id = await run(REFORGED);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.slogan).toBe('tides, always!');
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    const byHeader = (h: string) => JSON.stringify(seen.find((r) => r.headers['x-capstan-sounding'] === h)!.messages);
    expect(byHeader('0')).toContain('Variation: Be short.');
    expect(byHeader('1')).toContain('Variation: Be long.');
    expect(byHeader('r1.0')).toContain('The answer so far:\\ntides!');
    expect(byHeader('r1.evaluator')).toContain('Candidate -1 (the answer to improve on):\\ntides!');
    const rows = (await logsOf(id)).filter((l) => l.kind === 'sounding').map((l) => [l.turn, l.soundingIndex, l.winner, l.content.output, l.content.mutation]);
    expect(rows.sort()).toEqual([
      [1, 0, true, 'tides!', 'Be short.'],
      [1, 1, false, 'the tides that follow the moon', 'Be long.'],
      [2, 0, true, 'tides, always!', 'Be short.'],
    ]);
  });

  it('soundings with wards: a retry ward on the winner runs the soundings again with the reason; advisory wards only log', async () => {
    const WARDED = `
cascade_id: warded-soundings
model: fake/gpt-test
phases:
  - name: headline
    instructions: "Write a headline"
    soundings: { factor: 2, evaluator: "Pick one" }
    wards: { pre: [{ validator: no_pii, mode: blocking }], post: [{ validator: non_empty, mode: advisory }, { validator: has_title, mode: retry, max_attempts: 3 }] }
`;
    await fake.script({
      replies: [
        { match: { header: { 'x-capstan-sounding': '0' } }, text: 'plain a' },
        { match: { header: { 'x-capstan-sounding': '1' } }, text: 'plain b' },
        { match: { header: { 'x-capstan-sounding': 'evaluator' } }, toolCalls: [{ name: 'pick_winner', arguments: { index: 0 } }] },
        { match: { header: { 'x-capstan-sounding': 'r1.0' } }, text: '# Tides' },
        { match: { header: { 'x-capstan-sounding': 'r1.1' } }, text: '# Moon' },
        { match: { header: { 'x-capstan-sounding': 'r1.evaluator' } }, toolCalls: [{ name: 'pick_winner', arguments: { index: 1 } }] },
      ],
    });
    const id = await run(WARDED);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.headline).toBe('# Moon');
    const v = (await logsOf(id)).filter((l) => l.kind === 'validation').map((l) => `${l.turn}:${l.content.stage}:${l.content.validator}:${l.content.valid}`);
    expect(v).toEqual(['0:pre:no_pii:true', '1:post:non_empty:true', '1:post:has_title:false', '2:post:non_empty:true', '2:post:has_title:true']);
    const retry = (await fake.stats()).requests.find((r) => r.headers['x-capstan-session'] === id && r.headers['x-capstan-sounding'] === 'r1.0')!;
    expect(JSON.stringify(retry.messages)).toContain('not accepted (has_title: the output has no title)');
  });

  it('a human checkpoint parks the session (blocked) until answered through the API', async () => {
    const HUMAN = `
cascade_id: approval
model: fake/gpt-test
phases:
  - name: draft
    instructions: "Draft"
  - name: review
    human_input: { prompt: "Approve {{ outputs.draft }}?" }
  - name: publish
    context: { from: [review] }
    instructions: "Publish"
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'the draft' }, { text: 'published' }] });
    const id = await run(HUMAN);
    const s = await sessionIn(api, id, ['blocked', 'error', 'completed']);
    expect(s.status).toBe('blocked');
    const pending = (await api('GET', '/checkpoints?status=pending')).body.items.filter((c: { sessionId: string }) => c.sessionId === id);
    expect(pending).toHaveLength(1);
    expect(pending[0].prompt).toBe('Approve the draft?');
    expect((await api('POST', `/checkpoints/${pending[0].id}/respond`, {})).status).toBe(400);
    const answered = await api('POST', `/checkpoints/${pending[0].id}/respond`, { text: 'yes, ship it' });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    expect((await api('POST', `/checkpoints/${pending[0].id}/respond`, { text: 'again' })).status).toBe(409);
    const done = await sessionIn(api, id, ['completed', 'error']);
    expect(done.status, done.error).toBe('completed');
    expect(done.outputs).toEqual({ draft: 'the draft', review: 'yes, ship it', publish: 'published' });
    // The draft phase ran once: answering resumed after it.
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(seen).toHaveLength(2);
    expect(JSON.stringify(seen[1]!.messages)).toContain('yes, ship it');
  });

  it('ask_human: the model asks through a tool call, the session parks, and the answer comes back as the tool result', async () => {
    const ASK = `
cascade_id: asker
model: fake/gpt-test
phases:
  - name: plan
    instructions: "Plan; ask when unsure"
    tools: [ask_human, set_state]
    max_turns: 3
`;
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { toolCalls: [{ name: 'ask_human', arguments: { question: 'Which colour?' } }, { name: 'set_state', arguments: { key: 'asked', value: true } }] },
        { text: 'painting it blue' },
      ],
    });
    const id = await run(ASK);
    const s = await sessionIn(api, id, ['blocked', 'error', 'completed']);
    expect(s.status, s.error).toBe('blocked');
    const pending = (await api('GET', '/checkpoints?status=pending')).body.items.filter((c: { sessionId: string }) => c.sessionId === id);
    expect(pending.map((c: { prompt: string }) => c.prompt)).toEqual(['Which colour?']);
    // The other tool call of that turn ran before the session parked.
    expect(s.state).toEqual({ asked: true });
    expect((await api('POST', `/checkpoints/${pending[0].id}/respond`, { text: 'blue' })).status).toBe(200);
    const done = await sessionIn(api, id, ['completed', 'error']);
    expect(done.status, done.error).toBe('completed');
    expect(done.outputs).toEqual({ plan: 'painting it blue' });
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(seen).toHaveLength(2);
    const toolMessages = (seen[1]!.messages as { role: string; content: string; tool_call_id?: string }[]).filter((m) => m.role === 'tool');
    expect(toolMessages.map((m) => m.content)).toEqual(['state.asked set', 'blue']);
    const logs = await logsOf(id);
    expect(logs.filter((l) => l.kind === 'tool' && l.content.name === 'ask_human').map((l) => l.content.result)).toEqual(['waiting for a person', 'blue']);
  });

  it('cancel aborts the running LLM call at once; a signal reaches the next turn', async () => {
    const SLOW = `
cascade_id: slow
model: fake/gpt-test
phases:
  - name: think
    instructions: "Think"
    tools: [set_state]
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'late', delayMs: 20_000 }] });
    const id = await run(SLOW);
    await sessionIn(api, id, ['running']);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const c = await api('POST', `/sessions/${id}/cancel`, { reason: 'enough' });
    expect(c.status).toBe(200);
    const s = await sessionIn(api, id, ['cancelled']);
    expect(s.error).toBe('enough');
    // The fake's slow reply was abandoned: the call's connection is closed well before its 20 s.
    await expectEventuallyNoInflight(Date.now() - t0);
    expect((await api('POST', `/sessions/${id}/cancel`, {})).status).toBe(409);

    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [{ toolCalls: [{ name: 'set_state', arguments: { key: 'a', value: 1 } }], delayMs: 600 }, { text: 'heard you' }],
    });
    const id2 = await run(SLOW);
    await sessionIn(api, id2, ['running']);
    expect((await api('POST', `/sessions/${id2}/signal`, { text: 'focus on cost' })).status).toBe(202);
    const s2 = await sessionIn(api, id2, ['completed', 'error']);
    expect(s2.status, s2.error).toBe('completed');
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id2);
    expect(JSON.stringify(seen[1]!.messages)).toContain('Signal from the operator: focus on cost');
    expect((await logsOf(id2)).some((l) => l.kind === 'signal')).toBe(true);
  });

  it('route_to picks the next phase among the handoffs; loop_until re-runs a phase until its validator passes', async () => {
    const ROUTED = `
cascade_id: routed
model: fake/gpt-test
phases:
  - name: triage
    instructions: "Triage"
    tools: [route_to]
    handoffs: [simple, hard]
  - name: simple
    instructions: "Simple"
  - name: hard
    instructions: "Hard"
    loop_until: has_title
    max_turns: 3
`;
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [{ toolCalls: [{ name: 'route_to', arguments: { phase: 'hard' } }] }, { text: 'routed' }, { text: 'no heading yet' }, { text: '# Done\nbody' }],
    });
    const id = await run(ROUTED);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    // simple never ran: the model routed around the first handoff.
    expect(s.completed).toEqual(['triage', 'hard']);
    expect(s.outputs).toEqual({ triage: 'routed', hard: '# Done\nbody' });
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(JSON.stringify(seen[0]!.tools)).toContain('"enum":["simple","hard"]');
    expect(JSON.stringify(seen[3]!.messages)).toContain('has_title: the output has no title');
    const loops = (await logsOf(id)).filter((l) => l.content?.stage === 'loop_until').map((l) => l.content.valid);
    expect(loops).toEqual([false, true]);
  });

  it('token_budget stops the session with a clear reason once its calls used the budget', async () => {
    const BUDGET = `
cascade_id: budgeted
model: fake/gpt-test
token_budget: 50
phases:
  - name: work
    instructions: "Work"
    tools: [set_state]
    max_turns: 5
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ toolCalls: [{ name: 'set_state', arguments: { key: 'k', value: 1 } }], usage: { input: 40, output: 20 }, times: 'always' }] });
    const id = await run(BUDGET);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status).toBe('error');
    expect(s.error).toBe('token budget of 50 spent (60 tokens used)');
    // One call only: the second turn was never sent.
    expect((await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id)).toHaveLength(1);
    expect(s.tokensIn + s.tokensOut).toBe(60);
  });

  it('http_get reaches allowed hosts only; a refused host is told to the model as the tool result', async () => {
    const target = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ tide: 'high' }) });
    try {
      const FETCH = `
cascade_id: fetcher
model: fake/gpt-test
allow_hosts: ["127.0.0.1:${target.port}"]
phases:
  - name: look
    instructions: "Look it up"
    tools: [http_get]
`;
      await fake.script({
        sessionHeader: 'x-capstan-session',
        replies: [
          { toolCalls: [{ name: 'http_get', arguments: { url: `http://127.0.0.1:${target.port}/tide` } }, { name: 'http_get', arguments: { url: 'http://169.254.169.254/latest/meta-data' } }] },
          { text: 'the tide is high' },
        ],
      });
      const id = await run(FETCH);
      const s = await sessionIn(api, id, ['completed', 'error']);
      expect(s.status, s.error).toBe('completed');
      const tools = (await logsOf(id)).filter((l) => l.kind === 'tool').map((l) => [l.content.ok, l.content.result]);
      expect(tools[0]).toEqual([true, '{"tide":"high"}']);
      expect(tools[1]![0]).toBe(false);
      expect(tools[1]![1]).toMatch(/not in the allowed hosts/);
    } finally {
      target.stop(true);
    }
  });

  it('a provider timeout is retried, then fails the session with the reason, logged', async () => {
    const TIMEOUT = `
cascade_id: timing-out
model: strict/gpt-test
phases:
  - name: wait
    instructions: "Wait"
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'too late', delayMs: 3_000, times: 'always' }] });
    const id = await run(TIMEOUT);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status).toBe('error');
    expect(s.error).toBe('strict/gpt-test: no complete answer within 400 ms');
    // The first attempt and its one retry.
    expect((await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id)).toHaveLength(2);
    expect((await logsOf(id)).at(-1)).toMatchObject({ kind: 'error', phase: 'wait' });
  });

  it('a human checkpoint past its timeout continues with no answer (on_timeout: continue) or fails (on_timeout: fail)', async () => {
    const yaml = (onTimeout: string) => `
cascade_id: hurry-${onTimeout}
model: fake/gpt-test
phases:
  - name: ask
    human_input: { prompt: "Quick?", timeout: 1s, on_timeout: ${onTimeout} }
  - name: after
    instructions: "After"
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'went on' }] });
    const [cont, fail] = await Promise.all([run(yaml('continue')), run(yaml('fail'))]);
    const c = await sessionIn(api, cont, ['completed', 'error']);
    expect(c.status, c.error).toBe('completed');
    expect(c.outputs).toEqual({ ask: null, after: 'went on' });
    const f = await sessionIn(api, fail, ['completed', 'error']);
    expect(f.status).toBe('error');
    expect(f.error).toMatch(/timed out/);
    const closed = (await api('GET', '/checkpoints?status=timed_out')).body.items.map((h: { sessionId: string }) => h.sessionId);
    expect(closed).toEqual(expect.arrayContaining([cont, fail]));
  });

  it('an ask_human question past its timeout gives the model the default answer (on_timeout: { default })', async () => {
    const ASK = `
cascade_id: hurry-ask
model: fake/gpt-test
phases:
  - name: pick
    instructions: "Pick a colour"
    tools: [ask_human]
    ask_human: { timeout: 1s, on_timeout: { default: "green" } }
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ toolCalls: [{ name: 'ask_human', arguments: { question: 'Which?' } }] }, { text: 'green then' }] });
    const id = await run(ASK);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs).toEqual({ pick: 'green then' });
    const [cp] = (await api('GET', '/checkpoints?status=timed_out')).body.items.filter((h: { sessionId: string }) => h.sessionId === id);
    expect(cp).toMatchObject({ prompt: 'Which?', onTimeout: 'default' });
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(seen[1]!.messages.at(-1)).toMatchObject({ role: 'tool', content: 'green' });
  });

  it('console: /ui/cascades lists sessions and pending questions; a session page shows its phases, soundings with the winner, costs and log; the form answers a question', async () => {
    const ASK = `
cascade_id: console-ask
model: fake/gpt-test
phases:
  - name: ask
    human_input: { prompt: "Ship it?" }
  - name: after
    context: { from: [ask] }
    instructions: "After"
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'shipped' }] });
    const id = await run(ASK);
    await sessionIn(api, id, ['blocked']);
    const cp = (await api('GET', '/checkpoints?status=pending')).body.items.find((h: { sessionId: string }) => h.sessionId === id);
    const list = await fetch(`${server.url}/ui/cascades`);
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain(`/ui/cascades/sessions/${id}`);
    expect(html).toContain('Ship it?');
    expect(html).toContain(`action="/ui/cascades/checkpoints/${encodeURIComponent(cp.id)}/respond"`);
    // The soundings session of an earlier test: attempt 1 won.
    const sounded = (await api('GET', '/sessions?cascade=sounded')).body.items[0].id;
    const view = await (await fetch(`${server.url}/ui/cascades/sessions/${sounded}`)).text();
    expect(view).toMatch(/sounding 1[^<]*★ winner/);
    expect(view).not.toMatch(/sounding 0[^<]*★ winner/);
    expect(view).toContain('catchy');
    expect(view).toContain('id="costs"');
    expect(view).toMatch(/pitch<\/b> <span class="ok">done/);
    const answered = await fetch(`${server.url}/ui/cascades/checkpoints/${encodeURIComponent(cp.id)}/respond`, { method: 'POST', body: new URLSearchParams({ text: 'yes' }), redirect: 'manual' });
    expect(answered.status).toBe(303);
    expect(answered.headers.get('location')).toBe(`/ui/cascades/sessions/${id}`);
    const done = await sessionIn(api, id, ['completed', 'error']);
    expect(done.outputs).toEqual({ ask: 'yes', after: 'shipped' });
    const again = await fetch(`${server.url}/ui/cascades/checkpoints/${encodeURIComponent(cp.id)}/respond`, { method: 'POST', body: new URLSearchParams({ text: 'again' }), redirect: 'manual' });
    expect(again.status).toBe(409);
    expect((await fetch(`${server.url}/ui/cascades/sessions/nope`)).status).toBe(404);
  });

  it('exports its metrics on /metrics: turns, tokens, cost, phases and ended sessions by cascade, sessions by status; promtool accepts them', async () => {
    const METERED = `
cascade_id: metered
model: fake/gpt-test
phases:
  - name: one
    instructions: "One"
  - name: two
    instructions: "Two"
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'a', usage: { input: 100, output: 10 } }, { text: 'b', usage: { input: 200, output: 20 } }] });
    const before = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
    const id = await run(METERED);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const after = parseMetrics(text);
    const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
    expect(delta('cascades_turns_total{cascade="metered"}')).toBe(2);
    expect(delta('cascades_llm_tokens_total{cascade="metered",direction="input"}')).toBe(300);
    expect(delta('cascades_llm_tokens_total{cascade="metered",direction="output"}')).toBe(30);
    expect(delta('cascades_llm_cost_total{cascade="metered"}')).toBeCloseTo((300 * 1 + 30 * 2) / 1e6, 12);
    expect(delta('cascades_phases_total{cascade="metered",kind="llm"}')).toBe(2);
    expect(delta('cascades_sessions_ended_total{cascade="metered",status="completed"}')).toBe(1);
    // Earlier tests of this file ended sessions every other way.
    expect(after.get('cascades_sessions_ended_total{cascade="budgeted",status="error"}')).toBe(1);
    expect(after.get('cascades_sessions_ended_total{cascade="slow",status="cancelled"}')).toBe(1);
    expect(after.get('cascades_phases_total{cascade="sounded",kind="soundings"}')).toBe(1);
    expect(after.get('cascades_phases_total{cascade="approval",kind="human"}')).toBe(1);
    // The status gauge is the database's count, whatever instance is asked.
    for (const status of ['completed', 'error', 'cancelled', 'blocked']) {
      const n = (await api('GET', `/sessions?status=${status}&limit=1000`)).body.items.length;
      expect(after.get(`cascades_sessions{status="${status}"}`), status).toBe(n);
    }
    expect(after.get('cascades_sessions_active')).toBe(0);
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    if (!promtool) return console.warn('promtool not installed (Debian package prometheus); skipping the format check');
    const cascadesOnly = text.split('\n').filter((l) => /^(# (HELP|TYPE) )?cascades_/.test(l)).join('\n') + '\n';
    const r = spawnSync(promtool, ['check', 'metrics'], { input: cascadesOnly, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

/** Prometheus text -> value per series (`name{labels}` exactly as exposed). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The fake sees no request in flight within 5 s (a cancelled call was closed by the client). */
async function expectEventuallyNoInflight(_elapsed: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if ((await fake.stats()).inFlight === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the cancelled LLM call is still in flight');
}
