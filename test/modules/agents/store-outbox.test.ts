/**
 * The agents stores on real PostgreSQL: each state change and the event announcing it are one statement (the event
 * lands in kernel_outbox, which the relay publishes), so a crash between the two cannot lose the event, and a write
 * that does not happen (fenced out, already ended) writes no event: queued, started, turn with its budget events,
 * the end, retrying, paused, killed, a safety refusal, and a swarm's started, step, end, channel message and scaling.
 * Also the per-project and per-swarm claim limits.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../src/kernel/bus/memory-bus.ts';
import type { Database } from '../../../src/kernel/db/port.ts';
import { createLlmClient, llmConfigSchema } from '../../../src/kernel/index.ts';
import { createLogger } from '../../../src/kernel/log.ts';
import { MemoryQueue } from '../../../src/kernel/queue/memory-queue.ts';
import { agentsConfigSchema, resolveFolders } from '../../../src/modules/agents/config.ts';
import { SwarmEngine } from '../../../src/modules/agents/runtime/swarm-engine.ts';
import { AgentService } from '../../../src/modules/agents/service.ts';
import { makeRepo } from '../../helpers/agents-server.ts';
import { tempDir } from '../../kit/index.ts';
import { AgentCompleted, AgentFailed, AgentKilled, AgentQueued, AgentRetrying, AgentStarted, AgentTurn, BudgetWarning, SafetyBlocked, SwarmCompleted, SwarmMessage, SwarmScaled, SwarmStarted } from '../../../src/modules/agents/model/events.ts';
import { swarmSchema } from '../../../src/modules/agents/model/swarm.ts';
import { AgentStore, SwarmStore } from '../../../src/modules/agents/store/index.ts';
import type { AgentSpec } from '../../../src/modules/agents/model/agent.ts';
import { databaseForFile } from '../../helpers/database-for-file.ts';

const fx = databaseForFile('agentsstore');
let db: Database;
let store: AgentStore;
let swarms: SwarmStore;
beforeAll(() => {
  db = fx.db;
  store = new AgentStore(db);
  swarms = new SwarmStore(db);
});

const spec = (project?: string): AgentSpec => ({ task: 't', runtime: 'builtin', model: 'fake/agent', budget: {}, tools: { deny: [] }, skills: [], labels: {}, priority: 'normal', maxTurns: 5, wallClockMs: 60_000, cleanup: 'manual', dependsOn: [], project });
const make = async (id: string, project?: string, swarm?: { id: string; maxRunning: number }) =>
  store.create(
    { id, repo: '/r', baseBranch: 'main', branch: `capstan/agent-${id}`, worktree: `/w/${id}`, spec: { ...spec(project), ...(swarm ? { swarm: { id: swarm.id, role: 'w', key: id, maxRunning: swarm.maxRunning } } : {}) }, priority: 3, swarmId: swarm?.id },
    AgentQueued.outbox({ agentId: id, swarmId: swarm?.id ?? null, reason: 'spawned' }),
  );
const outboxOf = (agentId: string) => db.query<{ type: string; data: any }>(`SELECT type, data FROM kernel_outbox WHERE correlation_id = $1 ORDER BY id`, [agentId]);

describe('agents store', () => {
  it('writes the end event into the outbox with the end, and nothing when the worker was fenced out', async () => {
    await make('s1');
    await db.query(`DELETE FROM kernel_outbox WHERE correlation_id = 's1'`);
    const claimed = (await store.claim('s1', 'w1'))!;
    expect(await store.finish('s1', claimed.agent.epoch + 1, 'completed', { result: 'stale' }, AgentCompleted.outbox({ agentId: 's1', commitSha: null, result: 'stale', cost: 0 }))).toBe(false);
    expect(await outboxOf('s1')).toEqual([]);
    expect((await store.get('s1')).status).toBe('running');
    expect(await store.finish('s1', claimed.agent.epoch, 'completed', { result: 'ok', commitSha: 'abc' }, AgentCompleted.outbox({ agentId: 's1', commitSha: 'abc', result: 'ok', cost: 0.5 }))).toBe(true);
    expect((await store.get('s1')).status).toBe('completed');
    expect(await outboxOf('s1')).toEqual([{ type: 'agents.agent.completed', data: { agentId: 's1', commitSha: 'abc', result: 'ok', cost: 0.5 } }]);
    // A second end (a worker that resumed it and finishes again) changes nothing and adds no event.
    expect(await store.finish('s1', claimed.agent.epoch, 'failed', { error: 'late' }, AgentFailed.outbox({ agentId: 's1', reason: 'late' }))).toBe(false);
    expect(await outboxOf('s1')).toHaveLength(1);
  });

  it('claims at most maxConcurrent running agents of a project, even when claims race', async () => {
    for (let i = 0; i < 6; i++) await make(`p${i}`, 'gamma');
    const claims = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => store.claim(`p${i}`, `w${i}`, { name: 'gamma', maxConcurrent: 2 })));
    expect(claims.filter(Boolean)).toHaveLength(2);
    const running = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM agents_agents WHERE status = 'running' AND spec->>'project' = 'gamma'`);
    expect(running[0]!.n).toBe(2);
  });

  it('writes queued with the row, started, turn and budget events with their writes, and none for a fenced or repeated write', async () => {
    expect(await make('e1')).toBeDefined();
    // The same id again (a swarm advance made twice) makes no row and no second event.
    expect(await make('e1')).toBeUndefined();
    expect((await outboxOf('e1')).map((e) => e.type)).toEqual(['agents.agent.queued']);
    const { agent } = (await store.claim('e1', 'w1'))!;
    const started = AgentStarted.outbox({ agentId: 'e1', branch: agent.branch, worktree: agent.worktree, turn: 0 });
    expect(await store.started('e1', agent.epoch + 1, 'sha0', started)).toBe(false);
    expect(await store.started('e1', agent.epoch, 'sha0', started)).toBe(true);
    expect((await store.get('e1')).baseSha).toBe('sha0');
    const turn = { checkpoint: { turn: 1, messages: [] }, tokensIn: 80, tokensOut: 5, cost: 0, budgetWarned: true, logs: [] };
    const budget = BudgetWarning.outbox({ agentId: 'e1', tokens: 85, cost: 0, maxTokens: 100, maxCost: null });
    const turned = AgentTurn.outbox({ agentId: 'e1', turn: 1, tools: ['write_file'], tokens: 85, cost: 0 });
    expect(await store.saveTurn('e1', agent.epoch + 1, turn, [budget, turned])).toBeUndefined();
    expect(await store.saveTurn('e1', agent.epoch, turn, [budget, turned])).toBe('running');
    await store.audit('e1', 'run_command', 'command_denied', 'sudo', SafetyBlocked.outbox({ agentId: 'e1', tool: 'run_command', rule: 'command_denied', detail: 'sudo' }));
    // Failed with a retry left: queued again with its event; a stale epoch retries nothing.
    await db.query(`UPDATE agents_agents SET spec = jsonb_set(spec, '{retries}', '1') WHERE id = 'e1'`);
    const retrying = AgentRetrying.outbox({ agentId: 'e1', attempt: 1, reason: 'x', delayMs: 0, failedBranch: 'b' });
    expect(await store.retry('e1', agent.epoch + 1, 'x', 0, retrying)).toBeUndefined();
    expect(await store.retry('e1', agent.epoch, 'x', 0, retrying)).toBe(1);
    expect(await store.kill('e1', 'stop', AgentKilled.outbox({ agentId: 'e1', reason: 'stop' }))).toBeDefined();
    expect(await store.kill('e1', 'again', AgentKilled.outbox({ agentId: 'e1', reason: 'again' }))).toBeUndefined();
    const events = await outboxOf('e1');
    expect(events.map((e) => e.type)).toEqual(['agents.agent.queued', 'agents.agent.started', 'agents.budget.warning', 'agents.agent.turn', 'agents.safety.blocked', 'agents.agent.retrying', 'agents.agent.killed']);
    expect(events[3]!.data).toEqual({ agentId: 'e1', turn: 1, tools: ['write_file'], tokens: 85, cost: 0 });
    expect(events[6]!.data.reason).toBe('stop');
  });

  it('claims at most the autoscaled swarm’s max running agents, even when claims race', async () => {
    for (let i = 0; i < 6; i++) await make(`w${i}`, undefined, { id: 'swarm-a', maxRunning: 3 });
    const claims = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => store.claim(`w${i}`, `o${i}`, undefined, { id: 'swarm-a', maxRunning: 3 })));
    expect(claims.filter(Boolean)).toHaveLength(3);
    // An agent of another swarm is not held by this one's limit.
    await make('x0', undefined, { id: 'swarm-b', maxRunning: 1 });
    expect(await store.claim('x0', 'o', undefined, { id: 'swarm-b', maxRunning: 1 })).toBeDefined();
  });

  it('writes swarm events with the swarm’s writes, and each capacity change once, from the value before it', async () => {
    const spec = swarmSchema.parse({ name: 'sc', strategy: 'parallel', repo: '/r', tasks: ['a', 'b', 'c', 'd'], autoscale: { min: 1, max: 3 } });
    await swarms.create('sw1', spec, SwarmStarted.outbox({ swarmId: 'sw1', name: 'sc', strategy: 'parallel' }));
    const scaled = (s: { from: number; to: number; queued: number; running: number }) => SwarmScaled.outbox({ swarmId: 'sw1', name: 'sc', ...s });
    const scale = { min: 1, max: 3 };
    // Nothing queued yet: the capacity is min, which is no change.
    expect(await swarms.rescale('sw1', scale, scaled)).toBeUndefined();
    for (const k of ['a', 'b', 'c', 'd']) await make(`sw1-${k}`, undefined, { id: 'sw1', maxRunning: 3 });
    // Two instances deciding at once: one change, announced once.
    const decided = await Promise.all([swarms.rescale('sw1', scale, scaled), swarms.rescale('sw1', scale, scaled)]);
    expect(decided.filter(Boolean)).toEqual([{ from: 1, to: 3, queued: 4, running: 0 }]);
    expect((await swarms.get('sw1')).capacity).toBe(3);
    for (const k of ['a', 'b', 'c']) await store.kill(`sw1-${k}`, 'done', AgentKilled.outbox({ agentId: `sw1-${k}`, reason: 'done' }));
    expect(await swarms.rescale('sw1', scale, scaled)).toEqual({ from: 3, to: 1, queued: 1, running: 0 });
    expect(await swarms.capacities()).toEqual(expect.arrayContaining([{ id: 'sw1', name: 'sc', capacity: 1 }]));
    await swarms.post('sw1', 'sw1-d', 'w', 'hello', SwarmMessage.outbox({ swarmId: 'sw1', agentId: 'sw1-d', role: 'w', text: 'hello' }));
    const done = SwarmCompleted.outbox({ swarmId: 'sw1', name: 'sc', result: { ok: true } });
    expect(await swarms.finish('sw1', 'completed', { ok: true }, null, done)).toBe(true);
    expect(await swarms.finish('sw1', 'failed', null, 'late', done)).toBe(false);
    // An ended swarm is not scaled any more.
    expect(await swarms.rescale('sw1', scale, scaled)).toBeUndefined();
    const events = await outboxOf('sw1');
    expect(events.map((e) => e.type)).toEqual(['agents.swarm.started', 'agents.swarm.scaled', 'agents.swarm.scaled', 'agents.swarm.message', 'agents.swarm.completed']);
    expect(events[1]!.data).toEqual({ swarmId: 'sw1', name: 'sc', from: 1, to: 3, queued: 4, running: 0 });
    expect(events[2]!.data).toEqual({ swarmId: 'sw1', name: 'sc', from: 3, to: 1, queued: 1, running: 0 });
  });

  it("writes a swarm's step with the row of the step's first agent (one transaction), once when two advances race", async () => {
    const bus = new MemoryBus({ source: 'test' });
    const queue = new MemoryQueue();
    const log = createLogger({ level: 'silent' });
    const config = resolveFolders(agentsConfigSchema.parse({}), tempDir('capstan-agents-steps-'));
    // A CLI template: nothing here calls the LLM (the client is the real one with no provider); no worker runs.
    const service = new AgentService(store, queue, createLlmClient({ config: llmConfigSchema.parse(undefined), log }), config, () => undefined, async () => undefined);
    const engine = new SwarmEngine(swarms, store, service, queue, log);
    const published: string[] = [];
    await bus.subscribe('agents.swarm.step', (e) => void published.push(e.id));
    const spec = swarmSchema.parse({ name: 'steps', strategy: 'parallel', repo: makeRepo(), tasks: ['a', 'b', 'c'], max_concurrency: 2, template: { runtime: 'cli', cli: 'stand-in' } });
    const sw = await engine.create(spec);
    // Two instances advancing at once with no room: no agent, no step.
    await Promise.all([engine.advance(sw.id), engine.advance(sw.id)]);
    await store.kill(`${sw.id}-p0`, 'done', AgentKilled.outbox({ agentId: `${sw.id}-p0`, reason: 'done' }));
    // One slot free and two advances at once: p2 is made once, and its step written once.
    await Promise.all([engine.advance(sw.id), engine.advance(sw.id)]);
    const rows = await db.query<{ type: string; data: any; correlation_id: string; tx: string }>(
      `SELECT type, data, correlation_id, xmin::text AS tx FROM kernel_outbox WHERE correlation_id = $1 OR correlation_id LIKE $2 ORDER BY id`,
      [sw.id, `${sw.id}-%`],
    );
    const steps = rows.filter((r) => r.type === 'agents.swarm.step');
    expect(steps.map((r) => [r.correlation_id, r.data])).toEqual([
      [sw.id, { swarmId: sw.id, name: 'steps', step: 'p0,p1,p2', agents: [`${sw.id}-p0`, `${sw.id}-p1`] }],
      [sw.id, { swarmId: sw.id, name: 'steps', step: 'p2', agents: [`${sw.id}-p2`] }],
    ]);
    // Each step row was inserted by the transaction that inserted its first agent (and that agent's queued event).
    const queuedTx = (agentId: string) => rows.find((r) => r.type === 'agents.agent.queued' && r.data.agentId === agentId)!.tx;
    expect(steps.map((r) => r.tx)).toEqual([queuedTx(`${sw.id}-p0`), queuedTx(`${sw.id}-p2`)]);
    expect(rows.filter((r) => r.type === 'agents.agent.queued')).toHaveLength(3);
    // Nothing was published around the outbox (no relay runs here).
    expect(published).toEqual([]);
    await queue.close();
    await bus.close();
  });

  it("the sweeper's recoveries write their queued or failed event in the same statement, with data as the event types say", async () => {
    await make('o1');
    const lapse = async () => {
      const { agent } = (await store.claim('o1', 'dead'))!;
      await db.query(`UPDATE agents_agents SET heartbeat_at = now() - interval '1 hour' WHERE id = 'o1'`);
      return agent;
    };
    // Other tests' running agents are orphans too (their heartbeats are old): only o1 is looked at.
    const swept = async () => (await store.sweepOrphans(1_000, 1)).filter((a) => a.id === 'o1').map((a) => a.status);
    await lapse();
    expect(await swept()).toEqual(['queued']);
    await lapse();
    expect(await swept()).toEqual(['failed']);
    expect(await swept()).toEqual([]);
    const events = (await outboxOf('o1')).slice(1);
    expect(events.map((e) => e.type)).toEqual(['agents.agent.queued', 'agents.agent.failed']);
    expect(AgentQueued.schema.parse(events[0]!.data)).toEqual({ agentId: 'o1', swarmId: null, reason: 'recovery 1: its worker stopped answering' });
    expect(AgentFailed.schema.parse(events[1]!.data)).toEqual({ agentId: 'o1', swarmId: null, reason: 'its worker stopped answering 2 times' });
  });
});
