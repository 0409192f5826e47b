/**
 * A project's budget stops external CLI agents the way it stops built-in ones (on PostgreSQL, Redis and NATS, with the
 * stand-in coding CLI): the turn that spends it is saved with agents.budget.exceeded and the program is stopped; an
 * agent of the project claimed after that fails before its program starts.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { agentIn, collectEvents, makeRepo, startAgentsServer, type AgentsServer } from '../../helpers/agents-server.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { eventually } from '../../kit/index.ts';

const fake = fakeLlmForFile();
const FAKE_CLI = join(import.meta.dirname, '../../fixtures/agents/fake-coding-cli.ts');
let s: AgentsServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const prefix = uniqueName('agentsclip').toLowerCase();

beforeAll(async () => {
  db = await createTestDatabase('agentsclip');
  // The stand-in CLI prints usage lines of 700, 250 and 15 tokens (pausing between them); the project allows 800 in all
  // and one running agent at a time, so the two agents below run one after the other.
  const cliRuntimes = { fake: { command: [process.execPath, FAKE_CLI], env: { FAKE_CLI_SLEEP_MS: '200' } } };
  const projects = { gamma: { maxConcurrent: 1, maxTokens: 800 } };
  s = await startAgentsServer(fake.baseUrl, { cliRuntimes, projects }, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: prefix } });
}, 180_000);
afterAll(async () => {
  await s?.server.stop();
  await db?.drop();
});

describe("a project's budget and the external CLI runtime", () => {
  it('stops the CLI agent whose turn spends it (agents.budget.exceeded with that turn), and fails the next before its program starts', async () => {
    const repo = makeRepo();
    const events = await collectEvents(s.url, 'agents.>');
    const ids: string[] = [];
    // Both spawns pass the spawn's check (nothing is spent yet); the project runs one of them at a time.
    for (const task of ['write one', 'write two']) {
      const r = await s.api('POST', '/agents', { task, repo, runtime: 'cli', cli: 'fake', project: 'gamma' });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids.push((r.body as { id: string }).id);
    }
    const ended = [];
    for (const id of ids) ended.push(await agentIn(s.api, id, ['completed', 'failed', 'killed'], 60_000));
    // Whichever ran first: its second usage line brought the project to 950 of 800 tokens; that turn was saved and the
    // program stopped (the result line was never read). The other was claimed after and never started its program.
    const [spender, late] = [...ended].sort((x, y) => y.turn - x.turn);
    expect(spender).toMatchObject({ status: 'failed', turn: 2, tokensIn: 800, tokensOut: 150, attempt: 0 });
    expect(spender!.error).toBe('project gamma budget spent (950 tokens, cost 0)');
    expect(late).toMatchObject({ status: 'failed', turn: 0, tokensIn: 0, tokensOut: 0 });
    expect(late!.error).toBe('project gamma budget spent (950 tokens, cost 0)');
    const logs = (await s.api('GET', `/agents/${spender!.id}/logs`)).body.items as { kind: string; content: any }[];
    expect(logs.filter((l) => l.kind === 'output').map((l) => l.content.type ?? l.content.text)).toEqual(['system', 'plain progress text', 'assistant', 'assistant']);
    // One agents.budget.exceeded per agent, naming the project and its limit.
    const exceeded = await eventually(() => {
      const got = events.events.filter((e) => e.type === 'agents.budget.exceeded' && ids.includes(e.data.agentId));
      expect(got).toHaveLength(2);
      return got;
    });
    events.stop();
    const byAgent = Object.fromEntries(exceeded.map((e) => [e.data.agentId, e.data]));
    expect(byAgent[spender!.id]).toMatchObject({ project: 'gamma', tokens: 950, maxTokens: 800, maxCost: null });
    expect(byAgent[late!.id]).toMatchObject({ project: 'gamma', tokens: 950, maxTokens: 800 });
    // A spawn into the spent project is refused, as for built-in agents.
    const refused = await s.api('POST', '/agents', { task: 'write three', repo, runtime: 'cli', cli: 'fake', project: 'gamma' });
    expect(refused.status).toBe(409);
  });
});
