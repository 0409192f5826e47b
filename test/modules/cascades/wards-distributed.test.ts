/**
 * Cascade validators on two `capstan serve` processes sharing PostgreSQL, Redis and NATS, with the fake LLM as a third
 * process: a phase parked on a pre ward's validator cascade, and one parked on its loop_until validator cascade, while
 * the instance running that validator is SIGKILLed. The validator is resumed on the other instance, its end wakes the
 * parked phase, and the session completes there with the right output, each phase logged once and each verdict once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { eventually } from '../../helpers/async.ts';
import { FAST_CASCADES } from '../../helpers/cascades-server.ts';
import { childrenOf, runOn, session } from '../../helpers/cascades-sessions.ts';
import { uniqueName } from '../../helpers/env.ts';
import type { JsonApi } from '../../helpers/json-api.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { startInstance, type Instance } from '../../helpers/distributed-instance.ts';

const fake = fakeLlmForFile();
const prefix = uniqueName('cascw').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const servers: ServerProcess[] = [];

function start(): Promise<Instance> {
  return startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'cascades', settings: FAST_CASCADES, track: servers });
}

/** A validator cascade: its last phase answers {valid, reason} about `input.output` (quoted in the prompt, so the fake can match it). */
const JUDGE = `
cascade_id: judge
inputs_schema: { output: { type: string } }
model: fake/judge
phases:
  - name: verdict
    instructions: "Judge this: {{ input.output }}"
    output_schema: { type: object, required: [valid], properties: { valid: { type: boolean }, reason: { type: string } } }
`;

let a: Instance;
let b: Instance;
beforeAll(async () => {
  db = await createTestDatabase('cascw');
  a = await start();
  b = await start();
  const judge = await a.api('POST', '/definitions', JUDGE, 'application/yaml');
  expect(judge.status, JSON.stringify(judge.body)).toBeLessThan(300);
}, 180_000);
afterAll(async () => {
  for (const s of servers) await s.stop('SIGTERM');
  await db?.drop();
});

async function requestsOf(id: string) {
  return (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
}

async function logsOf(api: JsonApi, id: string): Promise<Record<string, any>[]> {
  return (await api('GET', `/sessions/${id}/logs`)).body.items as Record<string, any>[];
}

/**
 * Waits until the parent is parked (blocked) on a validator child whose LLM call is in flight, SIGKILLs the instance
 * running that child, and returns the child, the killed instance and the survivor.
 */
async function killValidatorWorker(parent: string): Promise<{ child: Record<string, any>; survivor: Instance; victim: Instance }> {
  const child = await eventually('the parent parked on a running validator whose call is in flight', async () => {
    const p = (await a.api('GET', `/sessions/${parent}`)).body;
    if (p.status !== 'blocked') return undefined;
    const running = (await childrenOf(a.api, parent)).find((k) => k.status === 'running' && k.owner);
    if (!running || (await requestsOf(running.id)).length === 0) return undefined;
    return running;
  });
  const victim = child.owner === a.id ? a : child.owner === b.id ? b : undefined;
  if (!victim) throw new Error(`validator ${child.id} is owned by ${child.owner}, neither instance`);
  const survivor = victim === a ? b : a;
  await victim.proc.stop('SIGKILL');
  return { child, victim, survivor };
}

/** Starts a fresh instance in place of the killed one, for the next case. */
async function replace(victim: Instance): Promise<void> {
  const fresh = await start();
  if (victim === a) a = fresh;
  else b = fresh;
}

describe('cascade validators on two instances', () => {
  it('SIGKILL while a phase is parked on its pre ward\'s validator cascade: the other instance finishes the validator and the session', async () => {
    await fake.reset();
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        // The validator's first call hangs (its worker dies meanwhile); the resumed call answers.
        { match: { model: 'judge' }, text: 'lost', delayMs: 60_000 },
        { match: { model: 'judge' }, json: { valid: true, reason: 'no secrets' } },
        { match: { model: 'writer' }, text: 'planned' },
        { match: { model: 'writer' }, text: 'written' },
      ],
    });
    const id = await runOn(a, `
cascade_id: guarded
inputs_schema: { topic: { type: string } }
model: fake/writer
phases:
  - name: plan
    instructions: "Plan"
  - name: write
    instructions: "Write about {{ input.topic }}"
    context: { from: [plan] }
    wards: { pre: [{ validator: { cascade: judge }, mode: blocking }] }
`, { topic: 'ships' });
    const { child, victim, survivor } = await killValidatorWorker(id);
    const s = await session(survivor.api, id, ['completed', 'error'], 60_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs).toEqual({ plan: 'planned', write: 'written' });
    expect(s.completed).toEqual(['plan', 'write']);
    // One validator child, resumed (not started again) on the survivor; it saw the phase's input.
    const kids = await childrenOf(survivor.api, id);
    expect(kids.map((k) => [k.id, k.cascadeId, k.status])).toEqual([[child.id, 'judge', 'completed']]);
    expect(kids[0]!.recoveries).toBeGreaterThanOrEqual(1);
    const judged = await requestsOf(child.id);
    expect(judged).toHaveLength(2);
    expect(JSON.stringify(judged[1]!.messages)).toContain('planned');
    // The writer was asked once per phase: the parked phase started its turn only after the verdict.
    expect(await requestsOf(id)).toHaveLength(2);
    const logs = await logsOf(survivor.api, id);
    expect(logs.filter((l) => l.kind === 'phase').map((l) => l.phase)).toEqual(['plan', 'write']);
    expect(logs.filter((l) => l.kind === 'validation').map((l) => [l.phase, l.content.stage, l.content.validator, l.content.valid, l.content.reason])).toEqual([['write', 'pre', 'cascade:judge', true, 'no secrets']]);
    await replace(victim);
  }, 240_000); // a lease to expire and an instance to start again, on a loaded machine

  it('SIGKILL while a phase is parked on its loop_until validator cascade: the loop goes on on the other instance', async () => {
    await fake.reset();
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { match: { model: 'judge', lastUser: 'draft one' }, json: { valid: false, reason: 'too thin' } },
        // The second draft's validator: its first call hangs (its worker dies meanwhile), the resumed call accepts.
        { match: { model: 'judge', lastUser: 'draft two' }, text: 'lost', delayMs: 60_000 },
        { match: { model: 'judge', lastUser: 'draft two' }, json: { valid: true } },
        { match: { model: 'writer' }, text: 'draft one' },
        { match: { model: 'writer' }, text: 'draft two' },
        { match: { model: 'writer' }, text: 'published' },
      ],
    });
    const id = await runOn(a, `
cascade_id: looped
model: fake/writer
phases:
  - name: draft
    instructions: "Draft"
    loop_until: { cascade: judge }
  - name: publish
    instructions: "Publish"
    context: { from: [draft] }
`);
    // The first verdict (too thin) ends with no kill; the kill lands while the second draft is being judged.
    await eventually('the first validator answered', async () => ((await childrenOf(a.api, id)).some((k) => k.status === 'completed') ? true : undefined));
    const { child, victim, survivor } = await killValidatorWorker(id);
    const s = await session(survivor.api, id, ['completed', 'error'], 60_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs).toEqual({ draft: 'draft two', publish: 'published' });
    const kids = await childrenOf(survivor.api, id);
    expect(kids).toHaveLength(2);
    expect(kids.every((k) => k.cascadeId === 'judge' && k.status === 'completed')).toBe(true);
    expect(kids.find((k) => k.id === child.id)!.recoveries).toBeGreaterThanOrEqual(1);
    expect(await requestsOf(child.id)).toHaveLength(2);
    // The writer: two drafts (the second carrying the validator's reason) and one publish, none asked twice.
    const written = await requestsOf(id);
    expect(written).toHaveLength(3);
    expect(JSON.stringify(written[1]!.messages)).toContain('too thin');
    const logs = await logsOf(survivor.api, id);
    expect(logs.filter((l) => l.kind === 'phase').map((l) => l.phase)).toEqual(['draft', 'publish']);
    expect(logs.filter((l) => l.kind === 'validation').map((l) => [l.phase, l.content.stage, l.content.valid, l.content.reason ?? null])).toEqual([
      ['draft', 'loop_until', false, 'too thin'],
      ['draft', 'loop_until', true, null],
    ]);
    await replace(victim);
  }, 240_000);
});
