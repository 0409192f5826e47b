/**
 * Swarms end to end on PostgreSQL, BullMQ and NATS with the fake LLM scripted by task text: parallel, pipeline (each
 * stage on the previous stage's branch), map-reduce (a splitter agent, mappers talking on the swarm channel, a reducer
 * given their results) and tree (a planner decomposing into children).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { git, makeRepo, startAgentsServer, type AgentsServer } from '../../helpers/agents-server.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { eventually } from '../../kit/index.ts';

const fake = fakeLlmForFile();
let s: AgentsServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase('agentsw');
  s = await startAgentsServer(fake.baseUrl, {}, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: uniqueName('agentsw').toLowerCase() } });
}, 180_000);
afterAll(async () => {
  await s?.server.stop();
  await db?.drop();
});

const reply = (lastUser: string, ...toolCalls: { name: string; arguments: unknown }[]) => ({ match: { lastUser }, toolCalls });
const finish = (summary: string) => ({ name: 'finish', arguments: { summary } });
const write = (path: string, content: string) => ({ name: 'write_file', arguments: { path, content } });

async function runSwarm(def: Record<string, unknown>): Promise<Record<string, any>> {
  const r = await s.api('POST', '/swarms', { template: { model: 'fake/agent' }, ...def });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return eventually(
    async () => {
      const now = (await s.api('GET', `/swarms/${r.body.id}`)).body;
      if (now.status === 'running') throw new Error(`swarm still running: ${JSON.stringify(now.agents.map((a: any) => [a.key, a.status, a.error]))}`);
      return now;
    },
    { timeout: 60_000 },
  );
}

const requestsOf = async (agentId: string) => (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === agentId);

describe('swarms', () => {
  it('parallel: one agent per task, each on its own branch', async () => {
    const repo = makeRepo();
    await fake.script({ sessionHeader: 'x-capstan-agent', replies: [reply('alpha', write('alpha.txt', 'a\n')), reply('alpha', finish('alpha done')), reply('beta', write('beta.txt', 'b\n')), reply('beta', finish('beta done'))] });
    const sw = await runSwarm({ name: 'two', strategy: 'parallel', repo, tasks: ['write alpha', 'write beta'], max_concurrency: 2 });
    expect(sw.status, sw.error).toBe('completed');
    expect(sw.result.agents.map((a: any) => [a.key, a.status, a.result])).toEqual([['p0', 'completed', 'alpha done'], ['p1', 'completed', 'beta done']]);
    const [p0, p1] = sw.result.agents;
    expect(git(repo, 'show', `${p0.branch}:alpha.txt`)).toBe('a\n');
    expect(git(repo, 'show', `${p1.branch}:beta.txt`)).toBe('b\n');
    expect(git(repo, 'ls-tree', '--name-only', p1.branch)).not.toContain('alpha.txt');
    expect(sw.agents.every((a: any) => a.swarmId === sw.id && a.labels.swarm === 'two')).toBe(true);
    // The console lists the swarm and its agents; an agent's page shows its log and diff.
    const list = await fetch(`${s.url}/ui/agents`);
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain(p0.agentId);
    expect(html).toContain('<td>two</td><td>parallel</td><td>completed</td>');
    const one = await (await fetch(`${s.url}/ui/agents/${p0.agentId}`)).text();
    expect(one).toContain('+a');
    expect(one).toContain('write_file');
    // Live parts: the list rows carry the agent id for the event script; an ended agent's page follows no log.
    expect(html).toContain(`<tr data-agent="${p0.agentId}">`);
    expect(one).toContain('data-ended="true"');
    expect((await fetch(`${s.url}/ui/agents/nope`)).status).toBe(404);
  });

  it('pipeline: each stage builds on the previous stage’s branch and gets its result', async () => {
    const repo = makeRepo();
    await fake.script({
      sessionHeader: 'x-capstan-agent',
      replies: [
        reply('stage one', write('notes.txt', 'one\n')),
        reply('stage one', finish('notes started')),
        reply('stage two', { name: 'edit_file', arguments: { path: 'notes.txt', old_text: 'one\n', new_text: 'one\ntwo\n' } }),
        reply('stage two', finish('notes finished')),
      ],
    });
    const sw = await runSwarm({ name: 'pipe', strategy: 'pipeline', repo, tasks: ['stage one: start notes.txt', 'stage two: add to notes.txt'] });
    expect(sw.status, sw.error).toBe('completed');
    expect(sw.result.output).toBe('notes finished');
    expect(git(repo, 'show', `${sw.result.branch}:notes.txt`)).toBe('one\ntwo\n');
    const stage2 = sw.result.stages[1];
    expect(sw.agents.find((a: any) => a.key === 's1').baseBranch).toBe(sw.result.stages[0].branch);
    expect(JSON.stringify((await requestsOf(stage2.agentId))[0]!.messages)).toContain('notes started');
  });

  it('map-reduce: a splitter splits, mappers post on the swarm channel, the reducer reads them and their results', async () => {
    const repo = makeRepo();
    await fake.script({
      sessionHeader: 'x-capstan-agent',
      replies: [
        reply('Split this task', finish('["part A", "part B"]')),
        reply("Merge the mappers' work", { name: 'read_messages', arguments: {} }),
        reply("Merge the mappers' work", write('total.txt', '7\n')),
        reply("Merge the mappers' work", finish('total 7')),
        reply('part A', { name: 'post_message', arguments: { text: 'A counted 3' } }),
        reply('part A', finish('A: 3')),
        reply('part B', finish('B: 4')),
      ],
    });
    const sw = await runSwarm({ name: 'count', strategy: 'map-reduce', repo, task: 'count the words' });
    expect(sw.status, sw.error).toBe('completed');
    expect(sw.result.output).toBe('total 7');
    expect(sw.result.mappers.map((m: any) => m.result)).toEqual(['A: 3', 'B: 4']);
    expect(sw.agents.map((a: any) => a.key).sort()).toEqual(['m0', 'm1', 'reduce', 'split']);
    expect(sw.messages).toMatchObject([{ role: 'mapper 1 of 2', text: 'A counted 3' }]);
    const reducer = await requestsOf(sw.result.reducer.agentId);
    expect(JSON.stringify(reducer[0]!.messages)).toContain('A: 3');
    expect(JSON.stringify(reducer[0]!.messages)).toContain('B: 4');
    expect(JSON.stringify(reducer[1]!.messages)).toContain('A counted 3');
    expect(git(repo, 'show', `${sw.result.branch}:total.txt`)).toBe('7\n');
  });

  it('tree: the root planner decomposes, children at the last level do the work', async () => {
    const repo = makeRepo();
    await fake.script({
      sessionHeader: 'x-capstan-agent',
      replies: [reply('Task: build a site', finish('["make page", "make style"]')), reply('make page', write('index.html', '<p>hi</p>\n')), reply('make page', finish('page made')), reply('make style', finish('style made'))],
    });
    const sw = await runSwarm({ name: 'site', strategy: 'tree', repo, task: 'build a site', depth: 1 });
    expect(sw.status, sw.error).toBe('completed');
    expect(sw.result.tree.key).toBe('t');
    expect(sw.result.tree.children.map((c: any) => [c.key, c.result])).toEqual([['t-0', 'page made'], ['t-1', 'style made']]);
    // The children were told to do the work, not to split further (depth 1 is the last level).
    const child = await requestsOf(sw.result.tree.children[0].agentId);
    expect(JSON.stringify(child[0]!.messages)).toContain('cannot be split further');
    expect(git(repo, 'show', `${sw.result.tree.children[0].branch}:index.html`)).toBe('<p>hi</p>\n');
  });

  it('refuses a bad definition naming the field', async () => {
    const r = await s.api('POST', '/swarms', 'name: x\nstrategy: pipeline\nrepo: /tmp\n', 'application/yaml');
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ path: 'body.tasks', message: 'pipeline needs tasks: one per stage' }]);
    const notRepo = await s.api('POST', '/swarms', { name: 'x', strategy: 'parallel', repo: '/nonexistent/repo', task: 't' });
    expect(notRepo.status).toBe(400);
    expect(notRepo.body.errors[0].path).toBe('body.repo');
    expect((await s.api('GET', '/swarms/nope')).status).toBe(404);
  });
});
