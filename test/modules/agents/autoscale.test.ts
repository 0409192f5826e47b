/**
 * Swarm autoscaling on PostgreSQL, BullMQ and NATS with the fake LLM: a swarm of 6 agents with autoscale {min 1, max 3}
 * queues all six and never runs more than 3 at once (the claim counts the swarm's running agents under a lock), runs 3
 * while the queue is deep, announces its capacity changes (agents.swarm.scaled) and reports it in a gauge. Bad
 * autoscale definitions are 400s naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { collectEvents, makeRepo, startAgentsServer, type AgentsServer } from '../../helpers/agents-server.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { eventually } from '../../kit/index.ts';

const fake = fakeLlmForFile();
let s: AgentsServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase('agentsas');
  s = await startAgentsServer(fake.baseUrl, { concurrency: 10 }, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: uniqueName('agentsas').toLowerCase() } });
}, 180_000);
afterAll(async () => {
  await s?.server.stop();
  await db?.drop();
});

/** The most intervals [start, end] open at one instant; an end at the same instant as a start comes first. */
function maxOverlap(spans: [number, number][]): number {
  const points = spans.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let most = 0;
  for (const [, d] of points) {
    open += d;
    most = Math.max(most, open);
  }
  return most;
}

describe('swarm autoscaling', () => {
  it('refuses bad autoscale definitions with a 400 naming the field', async () => {
    const repo = makeRepo();
    const base = { name: 'bad', strategy: 'parallel', repo, task: 't', agents: 2, template: { model: 'fake/agent' } };
    const cases: [unknown, string][] = [
      [{ ...base, autoscale: { min: 3, max: 1 } }, 'body.autoscale.min'],
      [{ ...base, autoscale: { min: 0, max: 2 } }, 'body.autoscale.min'],
      [{ ...base, autoscale: { min: 1 } }, 'body.autoscale.max'],
      [{ ...base, autoscale: { min: 1, max: 2 }, max_concurrency: 2 }, 'body.max_concurrency'],
    ];
    for (const [body, field] of cases) {
      const r = await s.api('POST', '/swarms', body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
  });

  it('runs at most max agents at once, reaches max while the queue is deep, and announces each capacity change', async () => {
    const repo = makeRepo();
    // Each agent takes two slow turns, so the six overlap unless the limit holds them back; 'slow task' takes longest,
    // so it runs alone at the end and the capacity comes down to min while it does.
    const write = { name: 'write_file', arguments: { path: 'a.txt', content: 'x\n' } };
    const finish = { name: 'finish', arguments: { summary: 'done' } };
    await fake.script({
      sessionHeader: 'x-capstan-agent',
      replies: [
        { match: { lastUser: 'slow task' }, toolCalls: [write], delayMs: 3_000 },
        { match: { lastUser: 'slow task' }, toolCalls: [finish], delayMs: 3_000 },
        { toolCalls: [write], delayMs: 700 },
        { toolCalls: [finish], delayMs: 700 },
      ],
    });
    const events = await collectEvents(s.url, 'agents.swarm.>');
    try {
      const r = await s.api('POST', '/swarms', { name: 'scaled', strategy: 'parallel', repo, tasks: ['task one', 'task two', 'task three', 'task four', 'task five', 'slow task'], autoscale: { min: 1, max: 3 }, template: { model: 'fake/agent' } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const id = r.body.id as string;
      // The gauge reports the capacity while the queue is deep (read from the database at scrape time).
      await eventually(
        async () => {
          const text = await (await fetch(`${s.url}/metrics`)).text();
          expect(text).toMatch(new RegExp(`agents_swarm_capacity\\{swarm="${id}",name="scaled"\\} 3\\b`));
          return true;
        },
        { timeout: 30_000 },
      );
      const sw = await eventually(
        async () => {
          const now = (await s.api('GET', `/swarms/${id}`)).body;
          if (now.status === 'running') throw new Error(`swarm still running: ${JSON.stringify(now.agents.map((a: any) => [a.key, a.status]))}`);
          return now;
        },
        { timeout: 90_000 },
      );
      expect(sw.status, sw.error).toBe('completed');
      expect(sw.agents).toHaveLength(6);
      expect(sw.agents.every((a: any) => a.status === 'completed')).toBe(true);
      // startedAt is taken after the claim's count, finishedAt before the end commits: the spans are the slots held.
      const spans = sw.agents.map((a: any) => [Date.parse(a.startedAt), Date.parse(a.finishedAt)] as [number, number]);
      expect(maxOverlap(spans)).toBeLessThanOrEqual(3);
      expect(maxOverlap(spans)).toBe(3);
      const scaled = await eventually(
        () => {
          const mine = events.events.filter((e) => e.type === 'agents.swarm.scaled' && e.data.swarmId === id).map((e) => e.data);
          expect(mine.some((d) => d.to === 3)).toBe(true);
          // Ends bring it down again, to min while the slow agent runs alone.
          expect(mine.some((d) => d.to === 1)).toBe(true);
          return mine;
        },
        { timeout: 30_000 },
      );
      for (const d of scaled) {
        expect(d.to).toBeGreaterThanOrEqual(1);
        expect(d.to).toBeLessThanOrEqual(3);
        expect(d.to).not.toBe(d.from);
        expect(d.name).toBe('scaled');
      }
      // Scaling up happened with work queued: the decision that went to 3 saw queued agents.
      expect(scaled.find((d) => d.to === 3)!.queued).toBeGreaterThan(0);
      // Changes chain: each starts from where the previous one ended.
      for (let i = 1; i < scaled.length; i++) expect(scaled[i]!.from).toBe(scaled[i - 1]!.to);
      expect(scaled[0]!.from).toBe(1);
      // The swarm's other events still arrive (they now travel through the outbox).
      await eventually(
        () => {
          expect(events.events.filter((e) => e.data.swarmId === id).map((e) => e.type)).toEqual(expect.arrayContaining(['agents.swarm.started', 'agents.swarm.completed']));
          return true;
        },
        { timeout: 30_000 },
      );
    } finally {
      events.stop();
    }
  });
});
