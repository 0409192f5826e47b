/**
 * Sub-cascades on two `capstan serve` processes sharing PostgreSQL, Redis and NATS, with the fake LLM as a third
 * process: SIGKILL of an instance while for_each_row children run on it (the parent still completes, every row has
 * exactly one child, none started twice), cancelling a parent through the other instance cancels its children, and
 * SIGKILL of the worker in the middle of a soundings phase with tools (it resumes from the soundings checkpoint).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { eventually } from '../../helpers/async.ts';
import { FAST_CASCADES } from '../../helpers/cascades-server.ts';
import { childrenOf, runOn, session } from '../../helpers/cascades-sessions.ts';
import { uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';
import { startInstance, type Instance } from '../../helpers/distributed-instance.ts';

const fake = fakeLlmForFile();
const prefix = uniqueName('cascd').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const servers: ServerProcess[] = [];

function start(): Promise<Instance> {
  // Data schemas kept for the test to look at (the TTL drop has its own test on the store).
  return startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'cascades', settings: { ...FAST_CASCADES, dataTtlMs: 3_600_000 }, track: servers });
}

let a: Instance;
let b: Instance;
beforeAll(async () => {
  db = await createTestDatabase('cascd');
  a = await start();
  b = await start();
  const child = await a.api('POST', '/definitions', 'cascade_id: child\ninputs_schema: { id: { type: integer } }\nmodel: fake/child\nphases:\n  - name: work\n    instructions: "Work on {{ input.id }}"\n', 'application/yaml');
  expect(child.status, JSON.stringify(child.body)).toBeLessThan(300);
}, 180_000);
afterAll(async () => {
  for (const s of servers) await s.stop('SIGTERM');
  // Roles are cluster-wide: drop the ones this file's sessions made (their schemas go with the database).
  if (db) {
    const { default: postgres } = await import('postgres');
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    for (const r of await sql`SELECT role_name FROM cascades_data_schemas`) await sql.unsafe(`DROP OWNED BY "${r.role_name}" CASCADE; DROP ROLE IF EXISTS "${r.role_name}"`);
    await sql.end();
  }
  await db?.drop();
});

const FAN = (rows: number, parallel: number) => `
cascade_id: fan${rows}
phases:
  - name: seed
    sql: "select g as id from generate_series(1, ${rows}) g"
  - name: per_row
    for_each_row: { table: _seed, cascade: child, inputs: { id: "{{ row.id }}" }, max_parallel: ${parallel} }
  - name: done
    sql: "select count(*)::int as n from _per_row where status = 'completed'"
`;

describe('sub-cascades on two instances', () => {
  it('cancelling a parent through the other instance cancels its running children', async () => {
    await fake.script({ replies: [{ match: { model: 'child' }, delayMs: 30_000, times: 'always' }] });
    const id = await runOn(a, FAN(3, 3));
    await session(a.api, id, ['blocked']);
    await eventually('three children running', async () => ((await childrenOf(a.api, id)).filter((k) => k.status === 'running').length === 3 ? true : undefined));
    expect((await b.api('POST', `/sessions/${id}/cancel`, { reason: 'enough' })).status).toBe(200);
    const kids = await eventually('every child cancelled', async () => {
      const k = await childrenOf(b.api, id);
      return k.every((x) => x.status === 'cancelled') ? k : undefined;
    });
    expect(kids).toHaveLength(3);
    expect(kids.map((k) => k.error)).toEqual([`parent ${id} cancelled`, `parent ${id} cancelled`, `parent ${id} cancelled`]);
    await eventually('the children\'s LLM calls closed', async () => ((await fake.stats()).inFlight === 0 ? true : undefined), 10_000);
  });

  it('SIGKILL of the parent\'s worker after run_cascade returned: it resumes from the checkpoint, the child is not run again', async () => {
    await fake.reset();
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { match: { model: 'child' }, text: 'child-done', times: 'always' },
        { match: { model: 'parent' }, toolCalls: [{ name: 'run_cascade', arguments: { cascade: 'child', inputs: { id: 9 } } }] },
        { match: { model: 'parent' }, text: 'lost', delayMs: 60_000 },
        { match: { model: 'parent' }, text: 'final' },
      ],
    });
    const id = await runOn(a, 'cascade_id: caller\nmodel: fake/parent\nphases:\n  - name: delegate\n    instructions: "Delegate"\n    tools: [run_cascade]\n');
    const parentCalls = async () => (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    await eventually('the turn after the child\'s result is in flight', async () => ((await parentCalls()).length === 2 ? true : undefined));
    const s0 = await session(a.api, id, ['running']);
    const victim = s0.owner === a.id ? a : b;
    const survivor = victim === a ? b : a;
    await victim.proc.stop('SIGKILL');
    const s = await session(survivor.api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.delegate).toBe('final');
    expect(s.recoveries).toBe(1);
    const kids = await childrenOf(survivor.api, id);
    expect(kids).toHaveLength(1);
    expect((await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === kids[0]!.id)).toHaveLength(1);
    // The resumed turn carried the child's result from the checkpoint.
    const last = (await parentCalls()).at(-1)!;
    expect(JSON.stringify(last.messages)).toContain('child-done');
    // Bring the second instance back for the next case.
    const fresh = await start();
    if (victim === a) a = fresh;
    else b = fresh;
  });

  it('SIGKILL of an instance running children: the parent completes with one child per row, none started twice', async () => {
    await fake.reset();
    // Every child's first call takes 1.5 s, so the kill lands while children run; a resumed child answers at once.
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ match: { model: 'child' }, delayMs: 1_500 }, { match: { model: 'child' }, text: 'resumed' }] });
    const id = await runOn(a, FAN(4, 2));
    const running = await eventually('a child running', async () => (await childrenOf(a.api, id)).find((k) => k.status === 'running' && k.owner));
    const victim = running.owner === a.id ? a : b;
    const survivor = victim === a ? b : a;
    await victim.proc.stop('SIGKILL');
    const s = await session(survivor.api, id, ['completed', 'error'], 60_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.done).toEqual([{ n: 4 }]);
    const kids = await childrenOf(survivor.api, id);
    expect(kids).toHaveLength(4);
    expect(new Set(kids.map((k) => k.inputs.id))).toEqual(new Set([1, 2, 3, 4]));
    expect(kids.every((k) => k.status === 'completed')).toBe(true);
    // The child that ran on the killed instance was resumed elsewhere, not started again as a new session.
    expect(kids.find((k) => k.id === running.id)!.recoveries).toBeGreaterThanOrEqual(1);
    expect((s.outputs.per_row as Record<string, any>[]).map((r) => r.session_id).sort()).toEqual(kids.map((k) => k.id).sort());
    // Bring the second instance back for the next case.
    const fresh = await start();
    if (victim === a) a = fresh;
    else b = fresh;
  }, 180_000);
  it('SIGKILL of the worker mid-soundings with tools: the other instance resumes from the soundings checkpoint, a finished attempt is not asked again', async () => {
    await fake.reset();
    const sounding = (i: string) => ({ header: { 'x-capstan-sounding': i } });
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { match: sounding('0'), toolCalls: [{ name: 'set_state', arguments: { key: 'colour', value: 'red' } }] },
        { match: sounding('0'), text: 'red it is' },
        { match: sounding('1'), toolCalls: [{ name: 'set_state', arguments: { key: 'colour', value: 'blue' } }] },
        { match: sounding('1'), text: 'lost', delayMs: 60_000 },
        { match: sounding('1'), text: 'blue it is' },
        { match: sounding('evaluator'), toolCalls: [{ name: 'pick_winner', arguments: { index: 1 } }] },
      ],
    });
    const id = await runOn(a, 'cascade_id: sounded\nmodel: fake/sounder\nphases:\n  - name: pick\n    instructions: "Pick a colour"\n    tools: [set_state]\n    soundings: { factor: 2, evaluator: "Pick one" }\n');
    const calls = async (i: string) => (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id && r.headers['x-capstan-sounding'] === i);
    const { default: postgres } = await import('postgres');
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      // Attempt 0's answer is in a committed checkpoint and attempt 1's second turn is in flight: the worker dies now.
      await eventually('attempt 0 checkpointed, attempt 1 waiting', async () => {
        if ((await calls('1')).length !== 2) return undefined;
        const [row] = await sql`SELECT count(*)::int AS n FROM cascades_checkpoints WHERE session_id = ${id} AND data->'soundings'->'attempts'->0->'done' IS NOT NULL`;
        return row!.n > 0 ? true : undefined;
      });
    } finally {
      await sql.end();
    }
    const s0 = await session(a.api, id, ['running']);
    const victim = s0.owner === a.id ? a : b;
    const survivor = victim === a ? b : a;
    await victim.proc.stop('SIGKILL');
    const s = await session(survivor.api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.pick).toBe('blue it is');
    expect(s.state).toEqual({ colour: 'blue' });
    expect(s.recoveries).toBe(1);
    // Attempt 0 was not asked again; attempt 1's lost turn was asked again with its own tool result, its first turn was not.
    expect(await calls('0')).toHaveLength(2);
    const ones = await calls('1');
    expect(ones).toHaveLength(3);
    expect(JSON.stringify(ones[2]!.messages)).toContain('state.colour set');
    const logs = (await survivor.api('GET', `/sessions/${id}/logs`)).body.items as Record<string, any>[];
    expect(logs.filter((l) => l.kind === 'tool').map((l) => l.soundingIndex).sort()).toEqual([0, 1]);
    expect(logs.filter((l) => l.kind === 'sounding').map((l) => [l.soundingIndex, l.winner]).sort()).toEqual([
      [0, false],
      [1, true],
    ]);
    const fresh = await start();
    if (victim === a) a = fresh;
    else b = fresh;
  }, 240_000); // a lease to expire and an instance to start again, on a loaded machine

  it('run_cascade in soundings attempts: each attempt waits for its own child; SIGKILL while they wait, the other instance waits for the same children', async () => {
    await fake.reset();
    const sounding = (i: string) => ({ header: { 'x-capstan-sounding': i } });
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { match: sounding('0'), toolCalls: [{ name: 'run_cascade', arguments: { cascade: 'child', inputs: { id: 1 } } }] },
        { match: sounding('0'), text: 'zero used its child' },
        { match: sounding('1'), toolCalls: [{ name: 'run_cascade', arguments: { cascade: 'child', inputs: { id: 2 } } }] },
        { match: sounding('1'), text: 'one used its child' },
        { match: sounding('evaluator'), toolCalls: [{ name: 'pick_winner', arguments: { index: 1 } }] },
        // Each child's first call is slow (the parent's worker dies meanwhile), then it echoes its input.
        { match: { model: 'child' }, delayMs: 6_000 },
        { match: { model: 'child' }, times: 'always' },
      ],
    });
    const id = await runOn(a, 'cascade_id: sounded-kids\nmodel: fake/sounder\nphases:\n  - name: pick\n    instructions: "Ask a child"\n    tools: [run_cascade]\n    soundings: { factor: 2, evaluator: "Pick one" }\n');
    const calls = async (i: string) => (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id && r.headers['x-capstan-sounding'] === i);
    const { default: postgres } = await import('postgres');
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await eventually('both attempts waiting for their children in a committed checkpoint', async () => {
        const [row] = await sql`SELECT count(*)::int AS n FROM cascades_checkpoints WHERE session_id = ${id}
          AND jsonb_array_length(data->'soundings'->'attempts'->0->'awaiting') = 1 AND jsonb_array_length(data->'soundings'->'attempts'->1->'awaiting') = 1`;
        return row!.n > 0 ? true : undefined;
      });
    } finally {
      await sql.end();
    }
    const s0 = await session(a.api, id, ['running']);
    const victim = s0.owner === a.id ? a : b;
    const survivor = victim === a ? b : a;
    await victim.proc.stop('SIGKILL');
    const s = await session(survivor.api, id, ['completed', 'error'], 90_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.pick).toBe('one used its child');
    expect(s.recoveries).toBe(1);
    // One child per attempt, named by round, attempt, turn and call, none started twice.
    const kids = await childrenOf(survivor.api, id);
    expect(kids.map((k) => [k.id.slice(id.length), k.status]).sort()).toEqual([
      ['.pick.0.r0.a0.t1.0', 'completed'],
      ['.pick.0.r0.a1.t1.0', 'completed'],
    ]);
    // Each attempt was asked twice (its first turn was not redone), the second time with its own child's result.
    const zero = await calls('0');
    const one = await calls('1');
    expect([zero.length, one.length]).toEqual([2, 2]);
    expect(JSON.stringify(zero[1]!.messages)).toContain('\\"id\\":1');
    expect(JSON.stringify(one[1]!.messages)).toContain('\\"id\\":2');
    const logs = (await survivor.api('GET', `/sessions/${id}/logs`)).body.items as Record<string, any>[];
    expect(logs.filter((l) => l.kind === 'tool' && l.content.result !== 'started').map((l) => [l.soundingIndex, l.content.ok]).sort()).toEqual([
      [0, true],
      [1, true],
    ]);
    const fresh = await start();
    if (victim === a) a = fresh;
    else b = fresh;
  }, 240_000);
});
