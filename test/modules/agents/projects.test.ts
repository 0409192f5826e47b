/**
 * Per-project limits across two `capstan serve` processes sharing PostgreSQL, BullMQ (Redis), NATS and a worktree
 * folder: a project's running agents never exceed maxConcurrent whichever instance claims them, an autoscaled swarm's
 * running agents never exceed its max, and a project's token budget (all its agents together) stops the agent that
 * spends it and refuses new spawns.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { agentIn, FAST_AGENTS, makeRepo } from '../../helpers/agents-server.ts';
import { uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { eventually, tempDir, type JsonApi } from '../../kit/index.ts';
import { startInstance } from '../../helpers/distributed-instance.ts';

const fake = fakeLlmForFile();
const prefix = uniqueName('agentsproj').toLowerCase();
const shared = tempDir('capstan-agents-projects-');
const PROJECTS = { alpha: { maxConcurrent: 1 }, beta: { maxTokens: 1_500 } };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const servers: ServerProcess[] = [];
const apis: JsonApi[] = [];

async function start(): Promise<JsonApi> {
  const settings = { ...FAST_AGENTS, concurrency: 4, projects: PROJECTS, worktreesDir: join(shared, 'worktrees'), artifactsDir: join(shared, 'artifacts') };
  return (await startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'agents', settings, track: servers })).api;
}

beforeAll(async () => {
  db = await createTestDatabase('agentsproj');
  apis.push(...(await Promise.all([start(), start()])));
}, 180_000);
afterAll(async () => {
  for (const s of servers) await s.stop('SIGTERM');
  await db?.drop();
});

const write = (path: string, usage = { input: 10, output: 1 }, delayMs = 0) => ({ toolCalls: [{ name: 'write_file', arguments: { path, content: 'x\n' } }], usage, delayMs });
const finish = (usage = { input: 10, output: 1 }, delayMs = 0) => ({ toolCalls: [{ name: 'finish', arguments: { summary: 'done' } }], usage, delayMs });

describe('per-project limits (two instances)', () => {
  it("a project's agents run one at a time across both instances when maxConcurrent is 1; other projects are not held", async () => {
    const repo = makeRepo();
    await fake.script({ sessionHeader: 'x-capstan-agent', replies: [write('a.txt', undefined, 400), finish(undefined, 400)] });
    const ids: string[] = [];
    // Spawned through both instances; each instance could run 4 at once.
    for (let i = 0; i < 4; i++) ids.push(((await apis[i % 2]!('POST', '/tasks', { model: 'fake/agent', task: `alpha ${i}`, repo, project: 'alpha' })).body as { id: string }).id);
    const free = ((await apis[0]!('POST', '/tasks', { model: 'fake/agent', task: 'no project', repo })).body as { id: string }).id;
    const ended = [];
    for (const id of ids) ended.push(await agentIn(apis[0]!, id, ['completed', 'failed'], 90_000));
    expect(ended.map((a) => a.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    // No two of the project's runs overlapped: each started after the one before it finished.
    const spans = ended.map((a) => [Date.parse(a.startedAt), Date.parse(a.finishedAt)] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    // The agent of no project did not wait for the project's queue: it ran while the project's agents did.
    const other = await agentIn(apis[0]!, free, ['completed', 'failed']);
    expect(other.status).toBe('completed');
    expect(Date.parse(other.finishedAt)).toBeLessThan(spans[3]![0]);
  });

  it("a project's token budget covers all its agents: the one that spends it fails, a new spawn is refused", async () => {
    const repo = makeRepo();
    await fake.script({ sessionHeader: 'x-capstan-agent', replies: [write('b.txt', { input: 1_000, output: 0 }), finish({ input: 0, output: 0 })] });
    const first = ((await apis[0]!('POST', '/agents', { model: 'fake/agent', task: 'beta one', repo, project: 'beta' })).body as { id: string }).id;
    expect(await agentIn(apis[0]!, first, ['completed', 'failed'])).toMatchObject({ status: 'completed', tokensIn: 1_000 });
    const second = ((await apis[1]!('POST', '/agents', { model: 'fake/agent', task: 'beta two', repo, project: 'beta', retries: 2 })).body as { id: string }).id;
    const done = await agentIn(apis[1]!, second, ['completed', 'failed']);
    // Its first turn brought the project to 2,000 of 1,500 tokens; the next turn was refused, and a spent budget is not retried.
    expect(done).toMatchObject({ status: 'failed', tokensIn: 1_000, turn: 1, attempt: 0 });
    expect(done.error).toBe('project beta budget spent (2000 tokens, cost 0.002)');
    const refused = await apis[0]!('POST', '/agents', { model: 'fake/agent', task: 'beta three', repo, project: 'beta' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain("project 'beta' has spent its budget");
    const bad = await apis[0]!('POST', '/agents', { model: 'fake/agent', task: 'x', repo, project: '../etc' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('body.project');
  });

  it("an autoscaled swarm's running agents stay within its max across both instances (each could run 4)", async () => {
    const repo = makeRepo();
    await fake.script({ sessionHeader: 'x-capstan-agent', replies: [write('s.txt', undefined, 500), finish(undefined, 500)] });
    const r = await apis[1]!('POST', '/swarms', { name: 'two-node', strategy: 'parallel', repo, task: 'swarm work', agents: 6, autoscale: { min: 1, max: 2 }, template: { model: 'fake/agent' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const sw = await eventually(
      async () => {
        const now = (await apis[0]!('GET', `/swarms/${(r.body as { id: string }).id}`)).body as Record<string, any>;
        return now.status === 'running' ? undefined : now;
      },
      { timeout: 120_000, what: 'the swarm to end' },
    );
    expect(sw.status, sw.error).toBe('completed');
    expect(sw.agents.map((a: any) => a.status)).toEqual(Array(6).fill('completed'));
    // The claim stamps startedAt after its count, the end stamps finishedAt before it commits: the spans are slots held.
    const points = sw.agents.flatMap((a: any) => [[Date.parse(a.startedAt), 1], [Date.parse(a.finishedAt), -1]] as [number, number][]).sort((x: number[], y: number[]) => x[0]! - y[0]! || x[1]! - y[1]!);
    let open = 0;
    let most = 0;
    for (const [, d] of points) most = Math.max(most, (open += d));
    expect(most).toBeLessThanOrEqual(2);
    expect(sw.capacity).toBeGreaterThanOrEqual(1);
  });
});
