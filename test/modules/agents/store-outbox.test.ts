/**
 * The agents store on real PostgreSQL: an agent's end and its agents.agent.completed|failed event are one statement
 * (the event lands in kernel_outbox, which the relay publishes), so a crash between the two cannot lose the event;
 * a fenced end writes neither. Also the per-project claim limit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/kernel/db/port.ts';
import { AgentCompleted, AgentFailed } from '../../../src/modules/agents/model/events.ts';
import { AgentStore } from '../../../src/modules/agents/store/index.ts';
import type { AgentSpec } from '../../../src/modules/agents/model/agent.ts';
import { databaseForFile } from '../../helpers/database-for-file.ts';

const fx = databaseForFile('agentsstore');
let db: Database;
let store: AgentStore;
beforeAll(() => {
  db = fx.db;
  store = new AgentStore(db);
});

const spec = (project?: string): AgentSpec => ({ task: 't', runtime: 'builtin', model: 'fake/agent', budget: {}, tools: { deny: [] }, skills: [], labels: {}, priority: 'normal', maxTurns: 5, wallClockMs: 60_000, cleanup: 'manual', dependsOn: [], project });
const make = async (id: string, project?: string) => {
  await store.create({ id, repo: '/r', baseBranch: 'main', branch: `capstan/agent-${id}`, worktree: `/w/${id}`, spec: spec(project), priority: 3 });
};
const outboxOf = (agentId: string) => db.query<{ type: string; data: any }>(`SELECT type, data FROM kernel_outbox WHERE correlation_id = $1 ORDER BY id`, [agentId]);

describe('agents store', () => {
  it('writes the end event into the outbox with the end, and nothing when the worker was fenced out', async () => {
    await make('s1');
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
});
