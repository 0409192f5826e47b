/**
 * Kubernetes effectuation in distributed mode against the test's own stand-in for the API server (no cluster runs
 * here; test/helpers/kube-api-standin.ts implements the two calls): a merge patch with the service account token,
 * then polling until the rollout is done. The application's value follows only finished rollouts, so a trial
 * whose reading matches its own parameters proves the loop waited; a rollout that never finishes fails the trial.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../src/kernel/http/auth.ts';
import { eventually } from '../../helpers/async.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { startKubeApiStandIn, type KubeApiStandIn } from '../../helpers/kube-api-standin.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { startServer, tempDir, type ServerProcess } from '../../helpers/server-process.ts';

const ADMIN = 'k8s-e2e-admin';
const SA_TOKEN = `sa-token-${Math.random().toString(36).slice(2)}`;
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess;
let kube: KubeApiStandIn;

/** The application's response to its live spec: best at 3 replicas with 600m CPU. */
function appValue(live: { replicas: number; annotations: Record<string, string> }): number {
  const cpu = Number.parseInt(live.annotations['example.com/cpu'] ?? '0', 10);
  return (live.replicas - 3) ** 2 + ((cpu - 600) / 100) ** 2;
}

beforeAll(async () => {
  db = await createTestDatabase('breedk8s');
  const keyFile = join(tempDir('capstan-k8scred-'), 'key');
  writeFileSync(keyFile, 'a-kubernetes-test-key-of-enough-characters\n');
  [server, kube] = await Promise.all([
    startServer({
      env: {
        DATABASE_URL: db.url,
        REDIS_URL,
        NATS_URL,
        CAPSTAN_PREFIX: uniqueName('bk8s').toLowerCase(),
        CAPSTAN_AUTH__TOKENS: `[{name: e2e, sha256: ${hashToken(ADMIN)}, scopes: [admin]}]`,
        CAPSTAN_MODULES__BREEDER__CREDENTIAL_KEY_FILE: keyFile,
      },
    }),
    startKubeApiStandIn(SA_TOKEN, appValue),
  ]);
  kube.addDeployment('web', 'api', 1);
  kube.addDeployment('web', 'stuck', 2, { stuck: true });
  const res = await post('/credentials', { name: 'sa-token', kind: 'api_token', token: SA_TOKEN });
  expect(res.status).toBe(201);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await kube?.stop();
  await db?.drop();
});

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}/api/v1/breeder${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
}
async function get<T>(path: string): Promise<T> {
  return (await fetch(`${server.url}/api/v1/breeder${path}`, { headers })).json() as Promise<T>;
}

type Trial = { number: number; state: string; params: Record<string, number>; values: number[] | null; error: string | null };

function breeder(name: string, deployment: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    space: { replicas: { type: 'int', low: 1, high: 5 }, cpu: { type: 'int', low: 100, high: 1000, step: 100 } },
    objectives: [{ name: 'cost', direction: 'minimize', source: { http: { url: `${kube.url}/app/web/${deployment}`, path: '$.value' } } }],
    effectuation: {
      kubernetes: {
        api_url: kube.url,
        credential: 'sa-token',
        namespace: 'web',
        kind: 'Deployment',
        name: deployment,
        // replicas keeps its number type (the whole string is one template); an annotation must be text.
        patch: { spec: { replicas: '{{ params.replicas }}', template: { metadata: { annotations: { 'example.com/cpu': '{{ params.cpu }}m' } } } } },
        poll_interval: '100ms',
        timeout: '30s',
        ...extra,
      },
    },
    run: { max_trials: 4 },
    algorithm: { sampler: 'random', seed: 11 },
  };
}

async function runToEnd(definition: ReturnType<typeof breeder>): Promise<Trial[]> {
  const created = await post('/breeders', definition);
  expect(created.status, await created.clone().text()).toBe(201);
  expect((await post(`/breeders/${definition.name}/start`, undefined)).status).toBe(200);
  await eventually(`${definition.name} completed`, async () => ((await get<{ status: string }>(`/breeders/${definition.name}`)).status === 'completed' ? true : undefined), 90_000);
  return (await get<{ items: Trial[] }>(`/breeders/${definition.name}/trials`)).items;
}

describe('breeder kubernetes effectuation', () => {
  it('patches the deployment with the token and reads each trial only after its rollout is done', async () => {
    const trials = await runToEnd(breeder('k8s-api', 'api'));
    expect(trials.map((t) => t.state), JSON.stringify(trials)).toEqual(['complete', 'complete', 'complete', 'complete']);
    for (const t of trials) expect(t.values![0]).toBe(appValue({ replicas: t.params.replicas!, annotations: { 'example.com/cpu': `${t.params.cpu}m` } }));
    const patches = kube.seen.filter((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/web/deployments/api');
    expect(patches).toHaveLength(4);
    for (const p of patches) expect(p).toMatchObject({ contentType: 'application/merge-patch+json', authorization: `Bearer ${SA_TOKEN}`, status: 200 });
    // Every rollout takes at least three looks (observe, update, make available), so the loop polled.
    const gets = kube.seen.filter((r) => r.method === 'GET' && r.path === '/apis/apps/v1/namespaces/web/deployments/api');
    expect(gets.length).toBeGreaterThanOrEqual(4 * 3);
  }, 120_000);

  it('fails the trial when the rollout does not finish within the timeout, saying what it waited for', async () => {
    const def = breeder('k8s-stuck', 'stuck', { timeout: '2s' });
    const trials = await runToEnd({ ...def, run: { max_trials: 1 } });
    expect(trials).toHaveLength(1);
    expect(trials[0]!.state).toBe('fail');
    expect(trials[0]!.error).toMatch(/^effectuation: rollout of Deployment web\/stuck not done within 2s: waiting for 0 of \d replicas updated$/);
  }, 120_000);

  it('fails the trial when the API server refuses the token', async () => {
    const def = breeder('k8s-no-token', 'api', { credential: undefined });
    const trials = await runToEnd({ ...def, run: { max_trials: 1 } });
    expect(trials[0]!.state).toBe('fail');
    expect(trials[0]!.error).toMatch(/^effectuation: PATCH .*\/deployments\/api answered 401/);
  }, 120_000);
});
