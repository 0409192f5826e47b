/**
 * What the breeder API refuses, over HTTP on an in-process server in distributed mode (PostgreSQL, Redis, NATS):
 * a start with max_trials used up is 409 problem+json (before, it started jobs that claimed nothing and completed
 * the breeder again at once); a definition whose sampler options cannot work is 400 naming the field, at create and
 * at PUT.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBreederModule } from '../../../src/modules/breeder/index.ts';
import { eventually, startTestServer, type TestServer } from '../../kit/index.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: TestServer;
let target: Server;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase('breedrefuse');
  target = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"value": 1}'));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  server = await startTestServer({ env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL }, modules: [createBreederModule()], flags: { prefix: uniqueName('breedrefuse').toLowerCase() } });
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await new Promise((r) => target?.close(r));
  await db?.drop();
});

function definition(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    space: { x: { type: 'float', low: 0, high: 1 } },
    objectives: [{ name: 'y', direction: 'minimize', source: { http: { url: `${base}/value`, path: '$.value' } } }],
    effectuation: { http: { url: `${base}/apply` } },
    run: { max_trials: 2 },
    algorithm: { sampler: 'random', seed: 1 },
    ...extra,
  };
}

describe('breeder API refusals', { timeout: 120_000 }, () => {
  it('refuses to start a breeder whose max_trials are used up (409 problem+json), and starts it once they are raised', async () => {
    const name = uniqueName('used');
    expect((await server.api('POST', '/breeder/breeders', definition(name))).status).toBe(201);
    expect((await server.api('POST', `/breeder/breeders/${name}/start`)).status).toBe(200);
    await eventually(async () => (await server.api('GET', `/breeder/breeders/${name}`)).body.status === 'completed', { timeout: 60_000, what: 'the breeder completes' });

    const res = await fetch(`${server.url}/api/v1/breeder/breeders/${name}/start`, { method: 'POST' });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/all 2 trials of run\.max_trials are used/);
    const after = (await server.api('GET', `/breeder/breeders/${name}`)).body;
    expect([after.status, after.reason, after.trials]).toEqual(['completed', 'max_trials', { complete: 2 }]);

    expect((await server.api('PUT', `/breeder/breeders/${name}`, definition(name, { run: { max_trials: 3 } }))).status).toBe(200);
    expect((await server.api('POST', `/breeder/breeders/${name}/start`)).status).toBe(200);
    await eventually(async () => {
      const b = (await server.api('GET', `/breeder/breeders/${name}`)).body;
      return b.status === 'completed' && b.trials.complete === 3;
    }, { timeout: 60_000, what: 'the third trial runs' });
  });

  it.each([
    [{ sampler: 'tpe', options: { gamma_min: 30, gamma_max: 2 } }, 'body.algorithm.options.gamma_min'],
    [{ sampler: 'tpe', options: { n_ei_candidates: 100_000_000 } }, 'body.algorithm.options.n_ei_candidates'],
    [{ sampler: 'grid' }, 'body.algorithm.options.points.x'],
  ])('refuses a sampler that cannot work at create and at PUT (400 naming %j)', async (algorithm, path) => {
    const name = uniqueName('badalg');
    const created = await server.api('POST', '/breeder/breeders', definition(name, { algorithm }));
    expect(created.status).toBe(400);
    expect(created.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect((await server.api('POST', '/breeder/breeders', definition(name))).status).toBe(201);
    const replaced = await server.api('PUT', `/breeder/breeders/${name}`, definition(name, { algorithm }));
    expect(replaced.status).toBe(400);
    expect(replaced.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });
});
