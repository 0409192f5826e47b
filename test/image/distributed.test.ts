/**
 * The image in distributed mode, as deploy/compose.yaml runs it: an `api` and a `worker` container (read-only root,
 * environment from the shared topology) on this machine's PostgreSQL, Redis and NATS. The api serves, the worker
 * does the work: jobs, the outbox relay and the workflow's step consumers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { distributedEnv, type Role } from '../helpers/deployment-topology.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { apiClient, orderDefinition, startShippingTarget, tokensEnv } from './order-workflow.ts';
import { Container, freePort } from './podman.ts';

const TOKEN = 'image-distributed-token';
const SHUTDOWN_MS = 6000;
const prefix = uniqueName('img').toLowerCase();
const target = startShippingTarget();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let api: Container;
let worker: Container;

async function start(role: Role): Promise<Container> {
  const env = distributedEnv(role, {
    DATABASE_URL: db.url,
    REDIS_URL,
    NATS_URL,
    CAPSTAN_PREFIX: prefix,
    CAPSTAN_AUTH__TOKENS: tokensEnv('admin', hashToken(TOKEN)),
    CAPSTAN_SERVER__SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS),
    CAPSTAN_LOG_LEVEL: 'info',
  });
  return Container.run({ label: role, port: await freePort(), env, readOnly: true });
}

/** The instance id a container logs when it has started. */
async function instanceId(c: Container): Promise<string> {
  const m = /"instanceId":"([^"]+)"[^\n]*"msg":"capstan started"/.exec(await c.logs());
  if (!m) throw new Error(`${c.name} logged no start line:\n${await c.logs()}`);
  return m[1]!;
}

beforeAll(async () => {
  db = await createTestDatabase('image');
  // Both at once: the migrations run under the advisory lock whichever gets there first.
  [api, worker] = await Promise.all([start('api'), start('worker')]);
}, 300_000);

afterAll(async () => {
  await api?.remove();
  await worker?.remove();
  await db?.drop();
  target.stop();
});

describe('the image, distributed mode (api + worker containers)', () => {
  it('both are ready on PostgreSQL, Redis and NATS; the worker answers only the probes', async () => {
    for (const c of [api, worker]) {
      const ready = (await (await fetch(`${c.url}/readyz`)).json()) as { status: string; dependencies: Record<string, { kind: string }> };
      expect(ready.status, c.name).toBe('ready');
      expect([ready.dependencies.database?.kind, ready.dependencies.queue?.kind, ready.dependencies.bus?.kind]).toEqual(['postgresql', 'redis', 'nats']);
    }
    const info = await apiClient(api.url, TOKEN)<{ mode: string }>('GET', '/api/v1');
    expect(info.body.mode).toBe('distributed');
    expect((await fetch(`${worker.url}/api/v1`)).status).toBe(404);
  });

  it('a job added through the api is processed by the worker', async () => {
    const call = apiClient(api.url, TOKEN);
    const added = await call<{ id: string }>('POST', '/api/v1/queues/capstan-diagnostics/jobs', { name: 'ping' });
    expect(added.status).toBe(201);
    let job: { state: string; returnValue?: { instanceId: string } } = { state: 'waiting' };
    for (let i = 0; i < 600 && job.state !== 'completed'; i++) {
      job = (await call<typeof job>('GET', `/api/v1/queues/capstan-diagnostics/jobs/${added.body.id}`)).body;
      if (job.state !== 'completed') await new Promise((r) => setTimeout(r, 100));
    }
    expect(job.state).toBe('completed');
    expect(job.returnValue?.instanceId).toBe(await instanceId(worker));
  });

  it('a workflow started through the api is carried to the end by the worker (the api runs no consumers)', async () => {
    const call = apiClient(`${api.url}/api/v1/workflow`, TOKEN);
    expect((await call('POST', '/definitions', orderDefinition(target.port), 'application/yaml')).status).toBe(201);
    const started = await call<{ runId: string }>('POST', '/workflows/order/runs', { foreignId: 'order-d1', object: { items: 3 } });
    expect(started.status).toBe(201);
    const runId = started.body.runId;
    expect((await call('POST', `/runs/${runId}/callback/created`, { status: 'paid' })).status).toBe(200);
    const done = await call('GET', `/runs/${runId}/await?status=shipped&timeout=60s`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'shipped', runState: 'completed', object: { items: 3, shippedBy: 'target' } });
    expect(target.calls).toEqual([{ runId, status: 'paid' }]);
  });

  it('podman stop ends both cleanly within the shutdown bound', async () => {
    for (const c of [api, worker]) {
      const { exitCode, ms } = await c.stop(SHUTDOWN_MS / 1000 + 5);
      const logs = await c.logs();
      expect(exitCode, logs).toBe(0);
      expect(logs).toContain('received SIGTERM, shutting down');
      expect(logs).toContain('shutdown complete');
      console.log(`distributed: podman stop of ${c.name} took ${ms} ms (bound ${SHUTDOWN_MS} ms)`);
    }
  });
});
