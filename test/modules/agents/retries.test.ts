/**
 * Task retries on PostgreSQL, Redis and NATS: a failed agent with `retries` runs again on a fresh worktree from the
 * base (the failed attempt kept as a branch), after its backoff; agents that depend on it wait for the final outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { agentIn, collectEvents, git, makeRepo, startAgentsServer, type AgentsServer } from '../../helpers/agents-server.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { eventually } from '../../kit/index.ts';

const fake = fakeLlmForFile();
let s: AgentsServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const prefix = uniqueName('agentsretry').toLowerCase();
beforeAll(async () => {
  db = await createTestDatabase('agentsretry');
  s = await startAgentsServer(fake.baseUrl, {}, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: prefix } });
}, 180_000);
afterAll(async () => {
  await s?.server.stop();
  await db?.drop();
});

const write = (path: string) => ({ toolCalls: [{ name: 'write_file', arguments: { path, content: `${path}\n` } }] });
const finish = (summary: string) => ({ toolCalls: [{ name: 'finish', arguments: { summary } }] });

describe('task retries', () => {
  it('a failed attempt runs again on a fresh worktree; a dependent task starts only after the final outcome', async () => {
    const repo = makeRepo();
    const events = await collectEvents(s.url);
    // Replies are consumed per agent (session header) in order, across attempts: attempt 1 writes bad.txt and bad2.txt
    // and runs out of its 2 turns; attempt 2 writes good.txt and finishes. The dependent walks the same list in 4 turns.
    await fake.script({ sessionHeader: 'x-capstan-agent', replies: [write('bad.txt'), write('bad2.txt'), write('good.txt'), finish('second time lucky')] });
    const a = (await s.api('POST', '/tasks', { model: 'fake/agent', task: 'flaky work', repo, maxTurns: 2, retries: 2, retryBackoffMs: 300 })).body as { id: string; branch: string };
    const b = (await s.api('POST', '/tasks', { model: 'fake/agent', task: 'after the flaky one', repo, dependsOn: [a.id] })).body as { id: string };
    const doneA = await agentIn(s.api, a.id, ['completed', 'failed']);
    expect(doneA.status, doneA.error).toBe('completed');
    expect(doneA).toMatchObject({ attempt: 1, result: 'second time lucky', turn: 2 });
    // The branch holds only the second attempt's work; the first attempt is kept on its own branch.
    expect(git(repo, 'ls-tree', '--name-only', a.branch).split('\n').filter(Boolean).sort()).toEqual(['README.md', 'good.txt']);
    expect(git(repo, 'ls-tree', '--name-only', `${a.branch}-attempt-1`).split('\n').filter(Boolean).sort()).toEqual(['README.md', 'bad.txt', 'bad2.txt']);
    expect(git(repo, 'log', '--format=%s', '-1', `${a.branch}-attempt-1`)).toMatch(/^\[failed\] agent /);
    const doneB = await agentIn(s.api, b.id, ['completed', 'failed']);
    expect(doneB.status, doneB.error).toBe('completed');
    expect(Date.parse(doneB.startedAt)).toBeGreaterThanOrEqual(Date.parse(doneA.finishedAt));
    await eventually(() => expect(events.events.filter((e) => e.data?.agentId === a.id).map((e) => e.type)).toEqual(['agents.agent.queued', 'agents.agent.started', 'agents.agent.turn', 'agents.agent.turn', 'agents.agent.retrying', 'agents.agent.started', 'agents.agent.turn', 'agents.agent.turn', 'agents.agent.completed']));
    expect(events.events.find((e) => e.type === 'agents.agent.retrying')!.data).toMatchObject({ attempt: 1, delayMs: 300, failedBranch: `${a.branch}-attempt-1`, reason: 'used its 2 turns without finishing' });
    // No failed event was published for the attempt that was retried.
    expect(events.events.filter((e) => e.type === 'agents.agent.failed' && e.data.agentId === a.id)).toEqual([]);
    events.stop();
  });

  it('fails for good when the retries are spent (then its dependents fail); a spent budget is not retried', async () => {
    const repo = makeRepo();
    await fake.script({ sessionHeader: 'x-capstan-agent', replies: [write('one.txt'), write('two.txt'), write('three.txt')] });
    const a = (await s.api('POST', '/tasks', { model: 'fake/agent', task: 'always fails', repo, maxTurns: 1, retries: 2, retryBackoffMs: 100 })).body as { id: string };
    const b = (await s.api('POST', '/tasks', { model: 'fake/agent', task: 'never runs', repo, dependsOn: [a.id] })).body as { id: string };
    const doneA = await agentIn(s.api, a.id, ['completed', 'failed']);
    expect(doneA).toMatchObject({ status: 'failed', attempt: 2, error: 'used its 1 turns without finishing' });
    const doneB = await agentIn(s.api, b.id, ['completed', 'failed']);
    expect(doneB).toMatchObject({ status: 'failed', error: `dependency ${a.id} failed`, startedAt: null });
    const logs = (await s.api('GET', `/agents/${a.id}/logs`)).body.items as { kind: string; content: any }[];
    expect(logs.filter((l) => l.kind === 'status' && l.content.retry).map((l) => [l.content.retry, l.content.delayMs])).toEqual([
      [1, 100],
      [2, 200],
    ]);

    await fake.script({ sessionHeader: 'x-capstan-agent', replies: [{ ...write('x.txt'), usage: { input: 5_000, output: 10 } }] });
    const c = (await s.api('POST', '/tasks', { model: 'fake/agent', task: 'expensive', repo, retries: 3, budget: { maxTokens: 1_000 } })).body as { id: string };
    const doneC = await agentIn(s.api, c.id, ['completed', 'failed']);
    expect(doneC).toMatchObject({ status: 'failed', attempt: 0 });
    expect(doneC.error).toContain('token budget spent');
  });
});
