/**
 * http_get and sql tool calls in progress are given up when the session is cancelled or gets an operator signal, on
 * two `capstan serve` processes sharing PostgreSQL, Redis and NATS (the cancel or signal always sent to the instance
 * NOT running the session), the fake LLM a third process. The http_get goes to a server here that never answers (its
 * 15 s timeout would end it otherwise, as a timeout, not an interruption); the sql call reads a table this test holds
 * an exclusive lock on, so it waits until cancelled. The sql cases check that the query left the server while the
 * lock is still held: cancelled there (pg_cancel_backend), not only abandoned by the worker.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionDataStore } from '../../../src/modules/cascades/store/session-data.ts';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { eventually } from '../../helpers/async.ts';
import { FAST_CASCADES } from '../../helpers/cascades-server.ts';
import { runOn, session } from '../../helpers/cascades-sessions.ts';
import { startInstance, type Instance } from '../../helpers/distributed-instance.ts';
import { uniqueName } from '../../helpers/env.ts';
import type { JsonApi } from '../../helpers/json-api.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';

const fake = fakeLlmForFile();
const prefix = uniqueName('cascti').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: postgres.Sql;
const servers: ServerProcess[] = [];
let site: ReturnType<typeof Bun.serve>;
/** Paths whose request arrived (and is held, never answered), and those whose client went away. */
const held: string[] = [];
const abandoned: string[] = [];
const releases: (() => void)[] = [];

let a: Instance;
let b: Instance;
beforeAll(async () => {
  site = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      held.push(path);
      req.signal.addEventListener('abort', () => abandoned.push(path));
      return new Promise<Response>((resolve) => releases.push(() => resolve(Response.json({ late: true }))));
    },
  });
  db = await createTestDatabase('cascti');
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  // A statement timeout far beyond the test's waits: only a cancel on the server can end the waiting query in time.
  const start = () => startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'cascades', settings: { ...FAST_CASCADES, sqlTimeoutMs: 300_000 }, track: servers });
  a = await start();
  b = await start();
}, 180_000);
afterAll(async () => {
  for (const r of releases) r();
  for (const s of servers) await s.stop('SIGTERM');
  site?.stop(true);
  if (sql) {
    for (const r of await sql`SELECT role_name FROM cascades_data_schemas`) await sql.unsafe(`DROP OWNED BY "${r.role_name}" CASCADE; DROP ROLE IF EXISTS "${r.role_name}"`);
    await sql.end();
  }
  await db?.drop();
});

async function requestsOf(id: string) {
  return (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
}

async function toolResults(api: JsonApi, id: string): Promise<{ name: string; ok: boolean; result: string }[]> {
  return ((await api('GET', `/sessions/${id}/logs`)).body.items as Record<string, any>[]).filter((l) => l.kind === 'tool').map((l) => l.content);
}

/** The instance that does not run the session (the one its cancel or signal is sent to). */
async function notOwner(id: string): Promise<Instance> {
  const s = (await a.api('GET', `/sessions/${id}`)).body;
  if (s.owner !== a.id && s.owner !== b.id) throw new Error(`session ${id} is owned by ${s.owner}, neither instance`);
  return s.owner === a.id ? b : a;
}

const HTTP = () => `
cascade_id: fetcher
model: fake/m
allow_hosts: ["127.0.0.1:${site.port}"]
phases:
  - name: fetch
    instructions: "Fetch the report."
    tools: [http_get]
    max_turns: 4
`;

/** A sql phase makes _seed; the session then parks on a person, so the test can lock _seed before the sql tool runs. */
const SQL = `
cascade_id: querier
model: fake/m
phases:
  - name: seed
    sql: "select 1 as x"
  - name: gate
    human_input: { prompt: "go?" }
  - name: ask
    instructions: "Count the seed rows."
    tools: [sql]
    max_turns: 4
`;

/** Backends of the test database waiting for a lock on the sql tool's query. */
async function waitingQueries(): Promise<number> {
  const rows = await sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%jsonb_agg%_seed%'`;
  return rows.length;
}

/**
 * Starts the sql cascade, holds an exclusive lock on its _seed table, lets it go on, and resolves once its sql tool
 * call waits for the lock; `release()` ends the lock's transaction.
 */
async function sqlCallWaitingOnLock(): Promise<{ id: string; release: () => Promise<void> }> {
  await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ toolCalls: [{ name: 'sql', arguments: { query: 'select count(*) as n from _seed' } }] }, { text: 'counted' }] });
  const id = await runOn(a, SQL);
  await session(a.api, id, ['blocked'], 60_000);
  const { schema } = SessionDataStore.names(id);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const tx = sql.begin(async (t) => {
    await t.unsafe(`LOCK TABLE "${schema}"."_seed" IN ACCESS EXCLUSIVE MODE`);
    locked();
    await released;
  });
  await isLocked;
  const question = ((await a.api('GET', '/checkpoints?status=pending')).body.items as Record<string, any>[]).find((q) => q.sessionId === id);
  expect((await a.api('POST', `/checkpoints/${question!.id}/respond`, { text: 'go' })).status).toBe(200);
  await eventually('the sql tool waiting on the lock', async () => ((await waitingQueries()) > 0 ? true : undefined), 60_000);
  return {
    id,
    release: async () => {
      release();
      await tx;
    },
  };
}

describe('http_get and sql interrupted by the session\'s signals, on two instances', () => {
  it('an operator signal sent to the other instance gives up an http_get in progress; the model hears it next turn', async () => {
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ toolCalls: [{ name: 'http_get', arguments: { url: `http://127.0.0.1:${site.port}/report-signal` } }] }, { text: 'gave up' }] });
    const id = await runOn(a, HTTP());
    await eventually('the request is held', async () => (held.includes('/report-signal') ? true : undefined), 60_000);
    expect((await (await notOwner(id)).api('POST', `/sessions/${id}/signal`, { text: 'skip the report' })).status).toBe(202);
    const s = await session(a.api, id, ['completed', 'error'], 60_000);
    expect(s.status, s.error).toBe('completed');
    expect(await toolResults(a.api, id)).toEqual([expect.objectContaining({ name: 'http_get', ok: false, result: 'interrupted by an operator signal before the request finished' })]);
    const next = JSON.stringify((await requestsOf(id))[1]!.messages);
    expect(next).toContain('interrupted by an operator signal');
    expect(next).toContain('Signal from the operator: skip the report');
    // The request itself was aborted (its connection closed), not left running.
    await eventually('the request aborted', async () => (abandoned.includes('/report-signal') ? true : undefined), 10_000);
  }, 120_000);

  it('a cancel sent to the other instance ends a session whose http_get is in progress', async () => {
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ toolCalls: [{ name: 'http_get', arguments: { url: `http://127.0.0.1:${site.port}/report-cancel` } }] }, { text: 'never asked' }] });
    const id = await runOn(a, HTTP());
    await eventually('the request is held', async () => (held.includes('/report-cancel') ? true : undefined), 60_000);
    expect((await (await notOwner(id)).api('POST', `/sessions/${id}/cancel`, { reason: 'enough' })).status).toBe(200);
    const s = await session(a.api, id, ['cancelled'], 30_000);
    expect(s.error).toBe('enough');
    await eventually('the request aborted', async () => (abandoned.includes('/report-cancel') ? true : undefined), 10_000);
    expect(await requestsOf(id)).toHaveLength(1);
  }, 120_000);

  it('an operator signal sent to the other instance cancels a sql call on the server; the session goes on', async () => {
    const { id, release } = await sqlCallWaitingOnLock();
    try {
      expect((await (await notOwner(id)).api('POST', `/sessions/${id}/signal`, { text: 'do not wait for the table' })).status).toBe(202);
      const s = await session(a.api, id, ['completed', 'error'], 60_000);
      expect(s.status, s.error).toBe('completed');
      expect(s.outputs.ask).toBe('counted');
      expect(await toolResults(a.api, id)).toEqual([expect.objectContaining({ name: 'sql', ok: false, result: 'interrupted by an operator signal before the query finished (it was cancelled)' })]);
      expect(JSON.stringify((await requestsOf(id))[1]!.messages)).toContain('Signal from the operator: do not wait for the table');
      // Gone from the server while the lock is still held: cancelled there, not abandoned.
      await eventually('no query waiting on the lock', async () => ((await waitingQueries()) === 0 ? true : undefined), 10_000);
    } finally {
      await release();
    }
  }, 120_000);

  it('a cancel sent to the other instance cancels a sql call on the server', async () => {
    const { id, release } = await sqlCallWaitingOnLock();
    try {
      expect((await (await notOwner(id)).api('POST', `/sessions/${id}/cancel`, { reason: 'enough' })).status).toBe(200);
      const s = await session(a.api, id, ['cancelled'], 30_000);
      expect(s.error).toBe('enough');
      await eventually('no query waiting on the lock', async () => ((await waitingQueries()) === 0 ? true : undefined), 10_000);
      expect(await requestsOf(id)).toHaveLength(1);
    } finally {
      await release();
    }
  }, 120_000);
});
