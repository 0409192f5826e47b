/**
 * Data phases and sub-cascades end to end in embedded mode (PGlite) against the fake LLM as a child process: sql
 * phases over the session's schema, the sql tool, for_each_row with max_parallel (children with parent_session_id,
 * results as a table a later sql phase reads), run_cascade as a tool, async_cascades logged on the parent, a cascade
 * as a retry ward's validator, and what a session's SQL may not reach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/kernel/boot/serve.ts';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { eventually } from '../../helpers/async.ts';
import { sessionIn, startCascadesServer } from '../../helpers/cascades-server.ts';
import type { JsonApi } from '../../helpers/json-api.ts';

const fake = fakeLlmForFile();
let server: RunningServer;
let api: JsonApi;
beforeAll(async () => {
  ({ server, api } = await startCascadesServer(fake.baseUrl));
  // The child cascade: one LLM phase on its own model; the fake echoes its context message (its inputs) unless told otherwise.
  await define(`
cascade_id: child
inputs_schema: { id: { type: integer }, name: { type: string } }
model: fake/child
phases:
  - name: greet
    instructions: "Greet {{ input.name }}"
`);
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

async function define(yaml: string): Promise<string> {
  const def = await api('POST', '/definitions', yaml, 'application/yaml');
  expect(def.status, JSON.stringify(def.body)).toBeLessThan(300);
  return def.body.cascadeId;
}

/** Saves a definition and starts a session; returns its id. */
async function run(yaml: string, inputs: Record<string, unknown> = {}): Promise<string> {
  const id = await define(yaml);
  const r = await api('POST', `/definitions/${id}/runs`, { inputs });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.sessionId;
}

async function logsOf(id: string): Promise<Record<string, any>[]> {
  return (await api('GET', `/sessions/${id}/logs`)).body.items;
}

const SEED = `select * from (values (1, 'ada'), (2, 'bob'), (3, 'cy')) as t(id, name)`;

describe('data phases and sub-cascades (embedded)', () => {
  it('sql phases make tables later phases read, and an LLM phase queries them with the sql tool', async () => {
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { toolCalls: [{ name: 'sql', arguments: { query: 'select count(*)::int as n, max(name) as last from _load' } }] },
        { text: 'two names, the last is CY' },
      ],
    });
    const id = await run(`
cascade_id: tables
model: fake/gpt-test
phases:
  - name: seed
    sql: "${SEED}"
  - name: load
    sql: "select id, upper(name) as name from _seed where id > 1 order by id"
  - name: tell
    instructions: "Describe {{ outputs.load }}"
    tools: [sql]
  - name: again
    sql: "select value from _tell"
`);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.seed).toEqual([{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }, { id: 3, name: 'cy' }]);
    expect(s.outputs.load).toEqual([{ id: 2, name: 'BOB' }, { id: 3, name: 'CY' }]);
    // The LLM phase's answer became table _tell for the last sql phase.
    expect(s.outputs.again).toEqual([{ value: 'two names, the last is CY' }]);
    const tool = (await logsOf(id)).find((l) => l.kind === 'tool' && l.content.name === 'sql')!;
    expect(tool.content.ok).toBe(true);
    expect(JSON.parse(tool.content.result)).toEqual({ rows: [{ n: 2, last: 'CY' }], truncated: false });
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(JSON.stringify(seen[0]!.messages)).toContain('BOB');
  });

  it("a session's SQL cannot read the module's tables or another session's schema", async () => {
    const first = await run(`
cascade_id: private
phases:
  - name: secret
    sql: "select 'mine' as v"
`);
    expect((await sessionIn(api, first, ['completed', 'error'])).status).toBe('completed');
    const sessions = await run(`
cascade_id: snoop
phases:
  - name: peek
    sql: "select * from cascades_sessions"
`);
    const s = await sessionIn(api, sessions, ['completed', 'error']);
    expect(s.status).toBe('error');
    expect(s.error).toMatch(/phase peek: sql failed: .*does not exist/);
    // The other session's schema by its name (a hash of its id): the role of this session has no right to it.
    const { createHash } = await import('node:crypto');
    const other = `cascade_data_${createHash('sha256').update(first).digest('hex').slice(0, 24)}`;
    const cross = await run(`
cascade_id: snoop2
phases:
  - name: peek
    sql: 'select * from "${other}"._secret'
`);
    const c = await sessionIn(api, cross, ['completed', 'error']);
    expect(c.status).toBe('error');
    expect(c.error).toMatch(/permission denied for schema/);
    // Refused before anything is saved, naming the field.
    const bad = await api('POST', '/definitions', { cascade_id: 'bad', phases: [{ name: 'a', sql: "select set_config('role', 'postgres', false)" }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('phases.0.sql');
  });

  it('for_each_row runs one child per row with at most max_parallel at once and collects their results', async () => {
    await fake.reset();
    await fake.script({ replies: [{ match: { model: 'child' }, delayMs: 300, times: 'always' }] });
    const id = await run(`
cascade_id: fan
phases:
  - name: seed
    sql: "${SEED}"
  - name: per_row
    for_each_row: { table: _seed, cascade: child, inputs: { id: "{{ row.id }}", name: "{{ row.name }}" }, max_parallel: 2 }
  - name: done
    sql: "select count(*)::int as n from _per_row where status = 'completed'"
`);
    const s = await sessionIn(api, id, ['completed', 'error'], 60_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.done).toEqual([{ n: 3 }]);
    const rows = s.outputs.per_row as Record<string, any>[];
    expect(rows.map((r) => [r.row_index, r.status])).toEqual([[0, 'completed'], [1, 'completed'], [2, 'completed']]);
    // Each child got its row as typed inputs, and echoed them back as its output.
    expect(rows[1]!.output).toContain('"id":2');
    expect(rows[1]!.output).toContain('"name":"bob"');
    for (const r of rows) {
      const kid = (await api('GET', `/sessions/${r.session_id}`)).body;
      expect(kid.parentSessionId).toBe(id);
      expect(kid.inputs).toEqual({ id: r.row_index + 1, name: ['ada', 'bob', 'cy'][r.row_index] });
    }
    const stats = await fake.stats();
    expect(stats.byModel.child).toBe(3);
    expect(stats.maxInFlight).toBeLessThanOrEqual(2);
    const started = (await logsOf(id)).filter((l) => l.kind === 'children' && l.content.started).flatMap((l) => l.content.started);
    expect(started).toHaveLength(3);
    // The console links a parent to its children and back.
    const page = await (await fetch(`${server.url}/ui/cascades/sessions/${id}`)).text();
    for (const r of rows) expect(page).toContain(`/ui/cascades/sessions/${encodeURIComponent(r.session_id)}`);
    const childPage = await (await fetch(`${server.url}/ui/cascades/sessions/${encodeURIComponent(rows[0]!.session_id)}`)).text();
    expect(childPage).toContain(`child of <a href="/ui/cascades/sessions/${id}">`);
  });

  it('run_cascade starts a child, the parent parks until it ends, and its result is the tool result', async () => {
    await fake.script({
      replies: [
        { match: { model: 'parent' }, toolCalls: [{ name: 'run_cascade', arguments: { cascade: 'child', inputs: { id: 7, name: 'eve' } } }] },
        { match: { model: 'parent' }, toolCalls: [{ name: 'run_cascade', arguments: { cascade: 'nope', inputs: {} } }] },
        { match: { model: 'parent' }, text: 'the child said hello' },
      ],
    });
    const id = await run(`
cascade_id: caller
model: fake/parent
phases:
  - name: delegate
    instructions: "Delegate"
    tools: [run_cascade]
    max_turns: 4
`);
    const s = await sessionIn(api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.delegate).toBe('the child said hello');
    const tools = (await logsOf(id)).filter((l) => l.kind === 'tool');
    const done = tools.find((l) => l.content.result?.includes?.('"status":"completed"'))!;
    expect(done.content.name).toBe('run_cascade');
    expect(JSON.parse(done.content.result).output).toContain('"name":"eve"');
    expect(tools.some((l) => l.content.ok === false && /cascade 'nope'/.test(l.content.result))).toBe(true);
    const kid = (await api('GET', `/sessions/${JSON.parse(done.content.result).sessionId}`)).body;
    expect(kid).toMatchObject({ parentSessionId: id, status: 'completed', cascadeId: 'child' });
  });

  it('async_cascades start without the parent waiting, and their results land in its log', async () => {
    await fake.script({ replies: [] });
    const id = await run(`
cascade_id: notifier
phases:
  - name: seed
    sql: "select 1 as x"
    async_cascades: [{ cascade: child, inputs: { id: 5, name: "{{ outputs.seed }}" }, trigger: on_start }, { cascade: child, inputs: { id: 6, name: zed } }]
`);
    const s = await sessionIn(api, id, ['completed', 'error']);
    expect(s.status, s.error).toBe('completed');
    const logs = await eventually("the started child's result on the parent", async () => {
      const l = (await logsOf(id)).filter((x) => x.kind === 'async_cascade' && x.content.status);
      return l.length > 0 ? l : undefined;
    });
    // The first one's input template gave a list, which the child's inputs_schema refuses: logged, not fatal.
    const started = (await logsOf(id)).filter((x) => x.kind === 'async_cascade' && x.content.started !== undefined);
    expect(started.map((x) => x.content.started)).toEqual([false, true]);
    expect(started[0]!.content.error).toMatch(/inputs.name: expected string/);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.content).toMatchObject({ status: 'completed', cascadeId: 'child', sessionId: started[1]!.content.sessionId });
    expect(logs[0]!.content.output).toContain('"name":"zed"');
  });

  it('a cascade that starts itself stops at the depth limit instead of forever', async () => {
    const id = await run(`
cascade_id: loop
phases:
  - name: seed
    sql: "select 1 as x"
  - name: again
    for_each_row: { table: _seed, cascade: loop }
`);
    const s = await sessionIn(api, id, ['completed', 'error'], 60_000);
    expect(s.status, s.error).toBe('completed');
    const all = (await api('GET', '/sessions?cascade=loop&limit=50')).body.items as Record<string, any>[];
    expect(all.map((x) => x.depth).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const deepest = all.find((x) => x.depth === 5)!;
    expect(deepest.status).toBe('error');
    expect(deepest.error).toMatch(/nest deeper than 5 levels/);
    // Each level above completed, its row naming the child that failed or completed.
    expect(s.outputs.again).toEqual([expect.objectContaining({ row_index: 0, status: 'completed' })]);
  });

  it('a cascade validator judges the answer: a retry ward sends its reason back until it says valid', async () => {
    await define(`
cascade_id: judge
inputs_schema: { output: { type: string } }
model: fake/judge
phases:
  - name: verdict
    instructions: "Is this long enough?"
    output_schema: { type: object, required: [valid], properties: { valid: { type: boolean }, reason: { type: string } } }
`);
    await fake.script({
      replies: [
        { match: { model: 'judge', lastUser: 'shorty' }, json: { valid: false, reason: 'too short' }, times: 'always' },
        { match: { model: 'judge' }, json: { valid: true }, times: 'always' },
        { match: { model: 'writer', lastUser: 'too short' }, text: 'a much longer answer', times: 'always' },
        { match: { model: 'writer' }, text: 'shorty', times: 'always' },
      ],
    });
    const id = await run(`
cascade_id: writer
model: fake/writer
phases:
  - name: write
    instructions: "Write"
    wards: { post: [{ validator: { cascade: judge }, mode: retry, max_attempts: 3 }] }
`);
    const s = await sessionIn(api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs.write).toBe('a much longer answer');
    const verdicts = (await logsOf(id)).filter((l) => l.kind === 'validation');
    expect(verdicts.map((v) => [v.content.validator, v.content.valid, v.content.reason ?? null])).toEqual([
      ['cascade:judge', false, 'too short'],
      ['cascade:judge', true, null],
    ]);
    const judges = (await api('GET', `/sessions?parent=${id}`)).body.items as Record<string, any>[];
    expect(judges.map((j) => [j.cascadeId, j.status])).toEqual([['judge', 'completed'], ['judge', 'completed']]);
  });
});
