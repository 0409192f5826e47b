/**
 * Cascades on two `capstan serve` processes sharing PostgreSQL, Redis and NATS, with the fake LLM as a third process:
 * SIGKILL of the worker mid-cascade (the other resumes it from its checkpoint, no completed phase runs again),
 * cancel and signal through the other instance, a human checkpoint answered there, SSE on the instance not running it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { eventually } from '../../helpers/async.ts';
import { FAST_CASCADES } from '../../helpers/cascades-server.ts';
import { runOn, session } from '../../helpers/cascades-sessions.ts';
import { uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { startInstance, type Instance } from '../../helpers/distributed-instance.ts';

const fake = fakeLlmForFile();
const prefix = uniqueName('casc').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const servers: ServerProcess[] = [];

function start(): Promise<Instance> {
  return startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'cascades', settings: FAST_CASCADES, track: servers });
}

let a: Instance;
let b: Instance;
beforeAll(async () => {
  db = await createTestDatabase('cascades');
  a = await start();
  b = await start();
}, 180_000);
afterAll(async () => {
  for (const s of servers) await s.stop('SIGTERM');
  await db?.drop();
});

const THREE = `
cascade_id: three
model: fake/gpt-test
phases:
  - name: p1
    instructions: "Phase one"
  - name: p2
    instructions: "Phase two"
    context: { from: [p1] }
  - name: p3
    instructions: "Phase three"
`;

/** The instance whose worker runs the session now, and the other one. */
async function ownerOf(id: string): Promise<{ owner: Instance; other: Instance }> {
  const s = await session(a.api, id, ['running']);
  const owner = s.owner === a.id ? a : s.owner === b.id ? b : undefined;
  if (!owner) throw new Error(`session ${id} is owned by ${s.owner}, neither instance`);
  return { owner, other: owner === a ? b : a };
}

async function requestsOf(id: string) {
  return (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
}

/** Reads SSE frames until an event's type matches `done`; returns the types seen. */
async function eventTypes(res: Response, done: RegExp): Promise<string[]> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  const types: string[] = [];
  let buf = '';
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) return types;
    buf += dec.decode(value);
    let idx: number;
    while ((idx = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, idx);
      buf = buf.slice(idx + 2);
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const evt = JSON.parse(data.slice(6)) as { type?: string };
      if (!evt.type) continue;
      types.push(evt.type);
      if (done.test(evt.type)) {
        await reader.cancel();
        return types;
      }
    }
  }
}

describe('cascades on two instances', () => {
  it('an SSE client on the instance not running the session sees its events', async () => {
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'one', delayMs: 800 }, { text: 'two' }, { text: 'three' }] });
    const id = await runOn(a, THREE);
    const { other } = await ownerOf(id);
    const res = await fetch(`${other.proc.url}/api/v1/cascades/sessions/${id}/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const types = await eventTypes(res, /completed$/);
    expect(types).toEqual(['cascades.session.phase', 'cascades.session.phase', 'cascades.session.phase', 'cascades.session.completed']);
  });

  it('cancel sent to the other instance stops the LLM call on the owner', async () => {
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'never', delayMs: 30_000 }] });
    const id = await runOn(a, THREE);
    const { other } = await ownerOf(id);
    await eventually('the LLM call is in flight', async () => ((await fake.stats()).inFlight > 0 ? true : undefined));
    const c = await other.api('POST', `/sessions/${id}/cancel`, { reason: 'stop' });
    expect(c.status).toBe(200);
    await eventually('the owner closed its LLM call', async () => ((await fake.stats()).inFlight === 0 ? true : undefined), 5_000);
    const s = await session(other.api, id, ['cancelled']);
    expect(s.error).toBe('stop');
  });

  it('a signal sent to the other instance reaches the next turn on the owner', async () => {
    const TOOLS = `
cascade_id: tooled
model: fake/gpt-test
phases:
  - name: think
    instructions: "Think"
    tools: [set_state]
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ toolCalls: [{ name: 'set_state', arguments: { key: 'k', value: 1 } }], delayMs: 1_000 }, { text: 'done' }] });
    const id = await runOn(a, TOOLS);
    const { other } = await ownerOf(id);
    expect((await other.api('POST', `/sessions/${id}/signal`, { text: 'mind the budget' })).status).toBe(202);
    const s = await session(a.api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    const seen = await requestsOf(id);
    expect(JSON.stringify(seen.at(-1)!.messages)).toContain('Signal from the operator: mind the budget');
  });

  it('a human checkpoint is answered through the other instance', async () => {
    const HUMAN = `
cascade_id: human
model: fake/gpt-test
phases:
  - name: ask
    human_input: { prompt: "Go?" }
  - name: act
    context: { from: [ask] }
    instructions: "Act"
`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'acted' }] });
    const id = await runOn(a, HUMAN);
    await session(a.api, id, ['blocked']);
    const cp = (await b.api('GET', '/checkpoints?status=pending')).body.items.find((c: { sessionId: string }) => c.sessionId === id);
    expect((await b.api('POST', `/checkpoints/${cp.id}/respond`, { text: 'go' })).status).toBe(200);
    const s = await session(a.api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs).toEqual({ ask: 'go', act: 'acted' });
  });

  it('triggers on two instances: each completed source session starts exactly one follow-up; a per-second cron one session per slot', async () => {
    const FOLLOW = `
cascade_id: follow
inputs_schema: { source: { type: string } }
phases:
  - name: wait
    human_input: { prompt: "Follow {{ input.source }}?" }
triggers:
  - event: cascades.session.completed
    filter: "event.data.cascadeId == 'source'"
    inputs: { source: "{{ event.data.sessionId }}" }
`;
    const SOURCE = 'cascade_id: source\nphases:\n  - name: ask\n    human_input: { prompt: "Go?" }\n';
    expect((await a.api('POST', '/definitions', FOLLOW, 'application/yaml')).status).toBe(201);
    const finishSource = async (via: Instance): Promise<string> => {
      const id = await runOn(via, SOURCE);
      const cp = await eventually('source question', async () => (await via.api('GET', '/checkpoints?status=pending')).body.items.find((c: { sessionId: string }) => c.sessionId === id));
      expect((await via.api('POST', `/checkpoints/${cp.id}/respond`, { text: 'go' })).status).toBe(200);
      await session(via.api, id, ['completed']);
      return id;
    };
    const follows = async () => (await a.api('GET', '/sessions?cascade=follow')).body.items as { id: string; inputs: { source: string } }[];
    const first = await finishSource(a);
    await eventually('first follow-up', async () => (await follows()).length >= 1);
    const second = await finishSource(b);
    await eventually('second follow-up', async () => (await follows()).some((f) => f.inputs.source === second));
    // By now a duplicate of the first firing would have landed too.
    expect((await follows()).map((f) => f.inputs.source).sort()).toEqual([first, second].sort());

    const TICK = `
cascade_id: tick
inputs_schema: { at: { type: string } }
phases:
  - name: wait
    human_input: { prompt: "Tick {{ input.at }}" }
triggers:
  - { cron: "* * * * * *", inputs: { at: "{{ trigger.at }}" } }
`;
    expect((await b.api('POST', '/definitions', TICK, 'application/yaml')).status).toBe(201);
    const ticks = async () => ((await b.api('GET', '/sessions?cascade=tick&limit=500')).body.items as { inputs: { at: string } }[]).map((t) => t.inputs.at);
    await eventually('three ticks', async () => (await ticks()).length >= 3, 20_000);
    // Turn the schedule off, then look at every slot it fired.
    expect((await b.api('POST', '/definitions', TICK.replace(/triggers:[\s\S]*$/, ''), 'application/yaml')).status).toBe(200);
    const seen = await ticks();
    expect(new Set(seen).size).toBe(seen.length);
    for (const at of seen) expect(Date.parse(at) % 1000).toBe(0);
  });

  it('SIGKILL of the worker mid-cascade: the other resumes from the checkpoint and no completed phase runs again', async () => {
    // p1 answers at once; p2's first call hangs (its worker dies meanwhile); the retry of p2 and p3 answer.
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'one' }, { text: 'lost', delayMs: 60_000 }, { text: 'two' }, { text: 'three' }] });
    const id = await runOn(a, THREE);
    await eventually('p2 is in flight', async () => ((await requestsOf(id)).length === 2 ? true : undefined));
    const { owner, other } = await ownerOf(id);
    const killedAt = Date.now();
    await owner.proc.stop('SIGKILL');
    const s = await session(other.api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs).toEqual({ p1: 'one', p2: 'two', p3: 'three' });
    expect(s.completed).toEqual(['p1', 'p2', 'p3']);
    expect(s.recoveries).toBe(1);
    expect(s.owner).toBeNull();
    const phaseOne = (await requestsOf(id)).filter((r) => JSON.stringify(r.messages).includes('Phase one'));
    expect(phaseOne).toHaveLength(1);
    const recovered = (await other.api('GET', `/sessions/${id}/logs`)).body.items.filter((l: { kind: string; phase: string }) => l.kind === 'phase').map((l: { phase: string }) => l.phase);
    expect(recovered).toEqual(['p1', 'p2', 'p3']);
    // Only the survivor can have swept it (the killed worker was running it), whichever instance held the sweeper role before.
    const metrics = await (await fetch(`${other.proc.url}/metrics`)).text();
    expect(metrics).toMatch(/^cascades_orphan_recoveries_total\{outcome="requeued"\} [1-9]/m);
    expect(metrics).toMatch(/^cascades_phases_total\{cascade="three",kind="llm"\} [1-9]/m);
    console.log(`recovered and completed ${Date.now() - killedAt} ms after SIGKILL (lease ${FAST_CASCADES.leaseMs} ms)`);
  });
});
