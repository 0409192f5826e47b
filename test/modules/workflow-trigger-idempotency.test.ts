/**
 * Idempotency-Key on POST /workflow/workflows/{name}/runs over HTTP, in both modes: two distributed instances on one
 * PostgreSQL (the key is a unique row, so a retry sent to the other instance still answers the first run) and one
 * embedded instance (PGlite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../kit/eventually.ts';
import { startTestServer, type TestServer } from '../kit/servers.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { removeDeploymentData } from '../helpers/deployment-cleanup.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const HOLD = `
name: hold
start: waiting
states:
  waiting: { callback: { to: [done] } }
  done: {}
`;
const settings = { timeoutPollMs: 100, sweepIntervalMs: 60_000, roleTtlMs: 2000 };
const prefix = uniqueName('wfidem').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let a: TestServer;
let b: TestServer;
let embedded: TestServer;

beforeAll(async () => {
  db = await createTestDatabase('wfidem');
  const env = { DATABASE_URL: db.url, REDIS_URL, NATS_URL };
  [a, b, embedded] = await Promise.all([
    startTestServer({ env, workflow: settings, flags: { prefix } }),
    startTestServer({ env, workflow: settings, flags: { prefix } }),
    startTestServer({ workflow: settings }),
  ]);
  for (const s of [a, embedded]) expect((await s.api('POST', '/workflow/definitions', HOLD, 'application/yaml')).status).toBe(201);
  // The other instance loads the definition from the applied event.
  await eventually(async () => ((await trigger(b, { foreignId: uniqueName('warm') })).status === 201 ? true : undefined), { timeout: 30_000, what: 'instance b runs the workflow' });
}, 240_000);

afterAll(async () => {
  await Promise.all([a, b, embedded].map((s) => s?.stop()));
  await removeDeploymentData(prefix);
  await db?.drop();
}, 180_000);

/** Starts a run of `hold` on `s`, with an Idempotency-Key when `key` is given. */
async function trigger(s: TestServer, body: unknown, key?: string) {
  const res = await fetch(`${s.url}/api/v1/workflow/workflows/hold/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), type: res.headers.get('content-type'), body: (await res.json()) as Record<string, any> };
}

async function runsOf(s: TestServer, foreignId: string): Promise<string[]> {
  const res = await s.api('GET', `/workflow/runs?workflow=hold&foreignId=${foreignId}&limit=100`);
  expect(res.status).toBe(200);
  return (res.body.runs as { runId: string; foreignId: string }[]).filter((r) => r.foreignId === foreignId).map((r) => r.runId);
}

function modeSuite(mode: string, first: () => TestServer, second: () => TestServer): void {
  describe(`Idempotency-Key, ${mode}`, () => {
    it('a retry with the same key and body answers the first run (201, Idempotent-Replayed), even after the run finished', async () => {
      const foreignId = uniqueName('order');
      const key = uniqueName('key');
      const created = await trigger(first(), { foreignId, object: { n: 1, m: 2 } }, key);
      expect(created.status).toBe(201);
      expect(created.replayed).toBeNull();
      expect(created.body).toEqual({ runId: expect.any(String), status: 'waiting', runState: 'running' });
      // The same body with its keys in another order and other spacing, sent to the other instance.
      const again = await trigger(second(), `{ "object": {"m": 2, "n": 1}, "foreignId": "${foreignId}" }`, key);
      expect(again).toMatchObject({ status: 201, replayed: 'true', body: created.body });
      // Without a key the same request is the usual 409: a run holds the foreign id.
      expect((await trigger(second(), { foreignId, object: { n: 1, m: 2 } })).status).toBe(409);
      expect((await first().api('POST', `/workflow/runs/${created.body.runId}/callback/waiting`, { status: 'done' })).status).toBe(200);
      // Finished: a plain start would begin a second run now; the retry still answers the first one.
      expect(await trigger(second(), { foreignId, object: { n: 1, m: 2 } }, key)).toMatchObject({ status: 201, replayed: 'true', body: created.body });
      expect(await runsOf(first(), foreignId)).toEqual([created.body.runId]);
    });

    it('the same key with another body is a 422 problem naming the header, and starts nothing', async () => {
      const foreignId = uniqueName('order');
      const key = uniqueName('key');
      expect((await trigger(first(), { foreignId }, key)).status).toBe(201);
      const other = await trigger(second(), { foreignId: `${foreignId}-2` }, key);
      expect(other.status).toBe(422);
      expect(other.type).toContain('application/problem+json');
      expect(other.body.errors).toEqual([{ path: 'header.idempotency-key', message: expect.any(String) }]);
      expect(await runsOf(first(), `${foreignId}-2`)).toEqual([]);
    });

    it('concurrent requests with one key, spread over the instances, start one run and all answer it', async () => {
      const foreignId = uniqueName('order');
      const key = uniqueName('key');
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => trigger(i % 2 ? second() : first(), { foreignId }, key)));
      expect(answers.map((r) => r.status)).toEqual(Array(6).fill(201));
      const ids = new Set(answers.map((r) => r.body.runId));
      expect(ids.size).toBe(1);
      expect(answers.filter((r) => r.replayed === null)).toHaveLength(1);
      expect(await runsOf(first(), foreignId)).toEqual([...ids]);
    });

    it('a malformed key is a 400 naming the header', async () => {
      for (const bad of ['has space', 'x'.repeat(256)]) {
        const res = await trigger(first(), { foreignId: uniqueName('order') }, bad);
        expect(res.status).toBe(400);
        expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('header.idempotency-key');
      }
    });
  });
}

modeSuite('distributed: two instances on one PostgreSQL', () => a, () => b);
modeSuite('embedded (PGlite)', () => embedded, () => embedded);
