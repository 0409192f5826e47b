/**
 * Outgrowing one machine: an embedded (PGlite) server's state moves with `capstan export` / `capstan import` to
 * PostgreSQL, where two distributed instances (PostgreSQL, Redis, NATS) carry on with it. Runs in every state cross:
 * completed and cancelled ones keep their histories exactly, a run waiting for its callback completes after it, a
 * pending timeout fires on the new side, a paused run resumes and finishes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { eventually } from '../helpers/async.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { jsonApi, type JsonApi } from '../helpers/json-api.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { runCapstan, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

const TOKEN = 'move-e2e-token';
const dir = tempDir('capstan-move-');
const dataDir = join(dir, 'data');
const archive = join(dir, 'state.capstan');
let embedded: ServerProcess | undefined;
const distributed: ServerProcess[] = [];
let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
let shipping = false; // the target's /flaky answers 503 until the test lets it succeed
const target = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch: (req) => {
    const path = new URL(req.url).pathname;
    if (path === '/ship' || (path === '/flaky' && shipping)) return Response.json({ status: 'shipped' });
    return new Response('down', { status: 503 });
  },
});

const definitions = [
  `
name: move-order
start: created
states:
  created: { callback: { to: [paid] } }
  paid: { http: { url: "http://127.0.0.1:${target.port}/ship", to: [shipped] } }
  shipped: {}
`,
  `
name: move-expiring
start: waiting
states:
  waiting: { callback: { to: [answered] }, timeout: { after: 25s, to: expired } }
  answered: {}
  expired: {}
`,
  `
name: move-flaky
start: ship
states:
  ship: { http: { url: "http://127.0.0.1:${target.port}/flaky", to: [shipped] }, retry: { attempts: 2, backoff: 50ms } }
  shipped: {}
`,
];

type Run = { runId: string; status: string; runState: string };
const runs: Record<string, string> = {};
const before: Record<string, { run: Run; history: unknown[] }> = {};
let envDistributed: Record<string, string>;

const snapshot = async (api: JsonApi, id: string) => ({ run: (await api('GET', `/workflow/runs/${id}`)).body as Run, history: (await api("GET", `/workflow/runs/${id}/history`)).body.history as unknown[] });
const reaches = (api: JsonApi, id: string, status: string, runState: string, timeoutMs = 60_000) =>
  eventually(`run ${id} ${runState} at ${status}`, async () => {
    const r = (await api('GET', `/workflow/runs/${id}`)).body as Run;
    return r.status === status && r.runState === runState ? r : undefined;
  }, timeoutMs);

beforeAll(async () => {
  embedded = await startServer({ args: ['--data-dir', dataDir] });
  const api = jsonApi(`${embedded.url}/api/v1`);
  for (const d of definitions) expect((await api('POST', '/workflow/definitions', d, 'application/yaml')).status).toBe(201);
  const start = async (wf: string, foreignId: string) => (await api('POST', `/workflow/workflows/${wf}/runs`, { foreignId, object: { foreignId } })).body.runId as string;
  runs.completed = await start('move-order', 'completed');
  runs.waiting = await start('move-order', 'waiting');
  runs.cancelled = await start('move-order', 'cancelled');
  runs.expiring = await start('move-expiring', 'expiring');
  runs.paused = await start('move-flaky', 'paused');
  expect((await api('POST', `/workflow/runs/${runs.completed}/callback/created`, { status: 'paid' })).status).toBe(200);
  expect((await api('POST', `/workflow/runs/${runs.cancelled}/cancel`, { reason: 'customer left' })).status).toBe(200);
  await reaches(api, runs.completed!, 'shipped', 'completed');
  await reaches(api, runs.cancelled!, 'created', 'cancelled');
  await reaches(api, runs.paused!, 'ship', 'paused');
  await reaches(api, runs.waiting!, 'created', 'running');
  await reaches(api, runs.expiring!, 'waiting', 'running');
  for (const [k, id] of Object.entries(runs)) before[k] = await snapshot(api, id);
  expect(await embedded.stop('SIGTERM')).toBe(0);

  db = await createTestDatabase('move');
  envDistributed = {
    DATABASE_URL: db.url,
    REDIS_URL,
    NATS_URL,
    CAPSTAN_PREFIX: uniqueName('move').toLowerCase(),
    CAPSTAN_AUTH__TOKENS: `[{name: e2e, sha256: ${hashToken(TOKEN)}, scopes: [admin]}]`,
  };
}, 180_000);

afterAll(async () => {
  await embedded?.stop();
  for (const s of distributed) await s.stop();
  target.stop(true);
  await db?.drop();
});

it('exports the stopped embedded server\'s data folder, every module\'s tables', async () => {
  const exported = await runCapstan(['export', '--data-dir', dataDir, '--to', archive]);
  expect(exported.code, exported.stderr).toBe(0);
  expect(exported.stdout).toMatch(/exported \d+ rows of \d+ tables from pglite/);
  for (const table of ['kernel_outbox', 'workflow_definitions', 'workflow_runs', 'workflow_history', 'workflow_timeouts']) expect(exported.stdout).toContain(table);
}, 60_000);

it('imports into an empty PostgreSQL, then refuses a second import into the now non-empty database', async () => {
  const imported = await runCapstan(['import', '--from', archive], { env: envDistributed });
  expect(imported.code, imported.stderr).toBe(0);
  expect(imported.stdout).toMatch(/imported \d+ rows of \d+ tables .* into postgres/);
  const again = await runCapstan(['import', '--from', archive], { env: envDistributed });
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('already holds data');
  expect(again.stderr).toContain('--replace');
}, 60_000);

it('two distributed instances carry on: histories are identical, waiting runs complete, the timeout fires, the paused run resumes', async () => {
  distributed.push(...(await Promise.all([startServer({ env: envDistributed, args: ['--role', 'api'] }), startServer({ env: envDistributed, args: ['--role', 'worker'] })])));
  const api = jsonApi(`${distributed[0]!.url}/api/v1`, { authorization: `Bearer ${TOKEN}` });
  // Every run arrived as it was, with its whole history (ids, times, objects).
  for (const [k, id] of Object.entries(runs)) expect(await snapshot(api, id), k).toEqual(before[k]);

  expect((await api('POST', `/workflow/runs/${runs.waiting}/callback/created`, { status: 'paid' })).status).toBe(200);
  await reaches(api, runs.waiting!, 'shipped', 'completed');
  shipping = true;
  expect((await api('POST', `/workflow/runs/${runs.paused}/resume`, {})).status).toBe(200);
  await reaches(api, runs.paused!, 'shipped', 'completed');
  // The 25 s timeout was set on the embedded side; the worker's timeout poller fires it here.
  await reaches(api, runs.expiring!, 'expired', 'completed', 90_000);

  // Finished runs are untouched; the continued ones kept their old history as its beginning.
  for (const k of ['completed', 'cancelled']) expect(await snapshot(api, runs[k]!)).toEqual(before[k]);
  for (const k of ['waiting', 'paused', 'expiring']) {
    const h = (await snapshot(api, runs[k]!)).history;
    expect(h.slice(0, before[k]!.history.length), k).toEqual(before[k]!.history);
    expect(h.length, k).toBeGreaterThan(before[k]!.history.length);
  }
  // New rows get fresh ids after the imported ones (sequences were moved past them).
  const next = (await api('POST', '/workflow/workflows/move-order/runs', { foreignId: 'after-the-move' })).body.runId as string;
  const history = (await api("GET", `/workflow/runs/${next}/history`)).body.history as unknown[];
  expect(history.length).toBeGreaterThan(0);
}, 180_000);
