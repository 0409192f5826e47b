/**
 * Credentials: sealed with the server's key (AES-256-GCM) before they reach PostgreSQL, never returned by any GET,
 * and sent by effectuation as the Authorization header to a target that demands a token, also when the breeder
 * names a stored http target (/targets) instead of a URL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../src/kernel/http/auth.ts';
import { eventually } from '../../kit/index.ts';
import { startTarget, type TargetProcess } from '../../helpers/breeder-target.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { startServer, tempDir, type ServerProcess } from '../../helpers/server-process.ts';

const ADMIN = 'cred-e2e-admin';
const TARGET_TOKEN = `target-secret-${Math.random().toString(36).slice(2)}`;
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess;
let target: TargetProcess;

beforeAll(async () => {
  db = await createTestDatabase('breedcred');
  const keyFile = join(tempDir('capstan-cred-'), 'key');
  writeFileSync(keyFile, 'a-test-key-of-more-than-sixteen-characters\n');
  [server, target] = await Promise.all([
    startServer({
      env: {
        DATABASE_URL: db.url,
        REDIS_URL,
        NATS_URL,
        CAPSTAN_PREFIX: uniqueName('bcred').toLowerCase(),
        CAPSTAN_AUTH__TOKENS: `[{name: e2e, sha256: ${hashToken(ADMIN)}, scopes: [admin]}]`,
        CAPSTAN_MODULES__BREEDER__ENABLED: 'true',
        CAPSTAN_MODULES__BREEDER__CREDENTIAL_KEY_FILE: keyFile,
      },
    }),
    startTarget(['--function', 'branin', '--token-env', 'TARGET_TOKEN'], { TARGET_TOKEN }),
  ]);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await target?.stop();
  await db?.drop();
});

const post = (path: string, body: unknown) => fetch(`${server.url}/api/v1/breeder${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
const get = async (path: string) => (await fetch(`${server.url}/api/v1/breeder${path}`, { headers })).text();

function breeder(name: string, credential?: string, effectuation?: Record<string, unknown>) {
  return {
    name,
    space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
    objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
    effectuation: effectuation ?? { http: { url: `${target.url}/apply`, ...(credential ? { credential } : {}) } },
    run: { max_trials: 2 },
    algorithm: { sampler: 'random', seed: 1 },
  };
}

async function runToEnd(name: string, effectuation?: Record<string, unknown>): Promise<{ state: string; error: string | null }[]> {
  expect((await post('/breeders', breeder(name, name === 'with' ? 'target-token' : undefined, effectuation))).status).toBe(201);
  expect((await post(`/breeders/${name}/start`, undefined)).status).toBe(200);
  await eventually(async () => JSON.parse(await get(`/breeders/${name}`)).status === 'completed', { timeout: 30_000, what: `${name} completed` });
  return JSON.parse(await get(`/breeders/${name}/trials`)).items;
}

describe('breeder credentials', () => {
  it('refuses a credential with a missing field, naming it', async () => {
    const res = await post('/credentials', { name: 'x', kind: 'api_token' });
    expect(res.status).toBe(400);
    expect((await res.json()).errors.map((e: { path: string }) => e.path)).toContain('body.token');
  });

  it('stores only ciphertext and never returns the secret', async () => {
    const res = await post('/credentials', { name: 'target-token', kind: 'api_token', token: TARGET_TOKEN });
    expect(res.status).toBe(201);
    const created = await res.text();
    expect(created).not.toContain(TARGET_TOKEN);
    expect(JSON.parse(created)).toMatchObject({ name: 'target-token', kind: 'api_token' });
    expect((await post('/credentials', { name: 'target-token', kind: 'api_token', token: 'x' })).status).toBe(409);
    for (const path of ['/credentials', '/credentials/target-token']) {
      const body = await get(path);
      expect(body).toContain('target-token');
      expect(body).not.toContain(TARGET_TOKEN);
    }
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    const rows = await sql`SELECT secret FROM breeder_credentials WHERE name = 'target-token'`;
    await sql.end();
    expect(rows[0]!.secret).toMatch(/^v1:/);
    expect(rows[0]!.secret).not.toContain(TARGET_TOKEN);
    expect(rows[0]!.secret).not.toContain(Buffer.from(TARGET_TOKEN).toString('base64').slice(0, 12));
  });

  it('effectuation sends the credential; without it the target refuses and the trials fail', async () => {
    const without = await runToEnd('without');
    expect(without.map((t) => t.state)).toEqual(['fail', 'fail']);
    expect(without[0]!.error).toMatch(/^effectuation: .*401/);
    const withCred = await runToEnd('with');
    expect(withCred.map((t) => t.state)).toEqual(['complete', 'complete']);
    expect(JSON.stringify(withCred)).not.toContain(TARGET_TOKEN);
  });

  it('an http target gives effectuation its URL and credential; a target without the credential is refused by the target', async () => {
    expect((await post('/targets', { name: 'sim-with', kind: 'http', url: target.url, credential: 'target-token' })).status).toBe(201);
    expect((await post('/targets', { name: 'sim-without', kind: 'http', url: `${target.url}/` })).status).toBe(201);
    const viaTarget = await runToEnd('via-target', { http: { target: 'sim-with', path: '/apply' } });
    expect(viaTarget.map((t) => t.state)).toEqual(['complete', 'complete']);
    const noCred = await runToEnd('via-target-nocred', { http: { target: 'sim-without', path: '/apply' } });
    expect(noCred.map((t) => t.state)).toEqual(['fail', 'fail']);
    expect(noCred[0]!.error).toMatch(/^effectuation: .*401/);
    // A definition names either a target or a url (and the credential comes with the target).
    const both = await post('/breeders', breeder('both', undefined, { http: { target: 'sim-with', url: `${target.url}/apply` } }));
    expect(both.status).toBe(400);
    expect((await both.json()).errors.map((e: { path: string }) => e.path)).toEqual(['body.effectuation.http.url']);
  });
});
