/**
 * Agents on two `capstan serve` processes sharing PostgreSQL, BullMQ (Redis), NATS and a worktree folder, with the fake
 * LLM as a third process: task priorities and dependencies through the shared queue, and a SIGKILLed instance's
 * running agent resumed on the other from its last saved turn.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { agentIn, FAST_AGENTS, git, makeRepo } from '../../helpers/agents-server.ts';
import { uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { eventually, tempDir, type JsonApi } from '../../kit/index.ts';
import { startInstance, type Instance } from '../../helpers/distributed-instance.ts';

const fake = fakeLlmForFile();
const prefix = uniqueName('agents').toLowerCase();
const shared = tempDir('capstan-agents-shared-');
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const servers: ServerProcess[] = [];

function start(): Promise<Instance> {
  const settings = { ...FAST_AGENTS, concurrency: 1, worktreesDir: join(shared, 'worktrees'), artifactsDir: join(shared, 'artifacts') };
  return startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'agents', settings, track: servers });
}

let a: Instance;
let b: Instance;
beforeAll(async () => {
  db = await createTestDatabase('agents');
  [a, b] = await Promise.all([start(), start()]);
}, 180_000);
afterAll(async () => {
  for (const s of servers) await s.stop('SIGTERM');
  await db?.drop();
});

const spawn = async (api: JsonApi, body: Record<string, unknown>) => {
  const r = await api('POST', '/agents', { model: 'fake/agent', ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; branch: string };
};

describe('agents on two instances', () => {
  it('takes tasks from the shared queue by priority, and starts a dependent only after its dependency completed', async () => {
    const repo = makeRepo();
    await fake.script({
      sessionHeader: 'x-capstan-agent',
      replies: [
        // Blockers hold both instances' single slot while the others queue up (long enough for four spawns on a
        // loaded machine; checked below).
        { match: { lastUser: 'block' }, delayMs: 8_000, toolCalls: [{ name: 'finish', arguments: { summary: 'unblocked' } }], times: 'always' },
        { toolCalls: [{ name: 'finish', arguments: { summary: 'done' } }], times: 'always' },
      ],
    });
    const blockers = [await spawn(a.api, { task: 'block one', repo }), await spawn(b.api, { task: 'block two', repo })];
    const owners: string[] = [];
    for (const x of blockers) owners.push((await agentIn(a.api, x.id, ['running'])).owner);
    // One slot per instance: both instances took work from the one queue.
    expect(owners.sort()).toEqual([a.id, b.id].sort());
    const low = await spawn(a.api, { task: 'low', repo, priority: 'low' });
    const normal = await spawn(b.api, { task: 'normal', repo, priority: 'normal' });
    const afterLow = await spawn(a.api, { task: 'after low', repo, priority: 'critical', dependsOn: [low.id] });
    const critical = await spawn(b.api, { task: 'critical', repo, priority: 'critical' });
    // The queue as listed: priority first, then age (the blockers, running, are normal ones).
    const tasks = (await a.api('GET', '/tasks')).body.items.map((t: { id: string }) => t.id).filter((id: string) => !blockers.some((x) => x.id === id));
    expect(tasks).toEqual([afterLow.id, critical.id, normal.id, low.id]);
    const done = new Map<string, Record<string, any>>();
    for (const x of [...blockers, low, normal, afterLow, critical]) done.set(x.id, await agentIn(a.api, x.id, ['completed', 'failed'], 60_000));
    for (const [id, x] of done) expect(x.status, `${id}: ${x.error}`).toBe('completed');
    // What the order below depends on: all four were queued before the first slot came free.
    const firstFree = Math.min(...blockers.map((x) => Date.parse(done.get(x.id)!.finishedAt)));
    expect(Date.parse(done.get(critical.id)!.createdAt), 'the last spawn before a blocker finished').toBeLessThan(firstFree);
    const startedAt = (x: { id: string }) => Date.parse(done.get(x.id)!.startedAt);
    // Two slots free up together: critical and normal take them; low waits for the next free slot.
    expect(startedAt(low)).toBeGreaterThanOrEqual(Math.max(startedAt(critical), startedAt(normal)));
    // The critical dependent does not jump ahead of its dependency.
    expect(startedAt(afterLow)).toBeGreaterThanOrEqual(Date.parse(done.get(low.id)!.finishedAt));
  }, 120_000);

  it('a SIGKILLed instance’s running agent resumes on the other from its last saved turn', async () => {
    const repo = makeRepo();
    await fake.script({
      sessionHeader: 'x-capstan-agent',
      replies: [
        { toolCalls: [{ name: 'write_file', arguments: { path: 'a.txt', content: 'turn one\n' } }] },
        // Answered (late) to the instance that is killed meanwhile: its turn is never saved.
        { delayMs: 6_000, toolCalls: [{ name: 'write_file', arguments: { path: 'lost.txt', content: 'never\n' } }] },
        { toolCalls: [{ name: 'write_file', arguments: { path: 'c.txt', content: 'after recovery\n' } }] },
        { toolCalls: [{ name: 'finish', arguments: { summary: 'survived' } }] },
      ],
    });
    const agent = await spawn(a.api, { task: 'write files across a crash', repo });
    const running = await eventually(
      async () => {
        const x = (await a.api('GET', `/agents/${agent.id}`)).body;
        return x.turn === 1 && x.status === 'running' ? x : undefined;
      },
      { timeout: 30_000, what: 'turn 1 saved' },
    );
    const [victim, survivor] = running.owner === a.id ? [a, b] : [b, a];
    // Kill only once the victim's second request is at the fake (its late answer is the reply never saved): killed
    // earlier, the survivor's first request would take that reply instead and the turns would not line up.
    await eventually(async () => ((await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === agent.id).length >= 2 ? true : undefined), { timeout: 30_000, what: 'turn 2 asked of the fake' });
    await victim.proc.stop('SIGKILL');
    const done = await agentIn(survivor.api, agent.id, ['completed', 'failed'], 60_000);
    expect(done.status, done.error).toBe('completed');
    expect(done.recoveries).toBe(1);
    expect(done.turn).toBe(3);
    expect(git(repo, 'show', `${agent.branch}:a.txt`)).toBe('turn one\n');
    expect(git(repo, 'show', `${agent.branch}:c.txt`)).toBe('after recovery\n');
    expect(git(repo, 'ls-tree', '--name-only', agent.branch).split('\n')).not.toContain('lost.txt');
    // The survivor continued the conversation: its first request already carries turn one's tool answer.
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === agent.id);
    expect(seen).toHaveLength(4);
    expect(JSON.stringify(seen[2]!.messages)).toContain('wrote 9 bytes to a.txt');
    expect(JSON.stringify(seen[2]!.messages)).not.toContain('lost.txt');
    expect(existsSync(join(shared, 'artifacts', agent.id, 'result.md'))).toBe(true);
    const logs = (await survivor.api('GET', `/agents/${agent.id}/logs`)).body.items as { turn: number; kind: string }[];
    expect(logs.filter((l) => l.kind === 'assistant').map((l) => l.turn)).toEqual([1, 2, 3]);
  }, 120_000);
});
