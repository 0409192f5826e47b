/**
 * The image in embedded mode: healthy, non-root under tini, a workflow run end to end, its data kept by the /data
 * volume across a new container, and `podman stop` ending it cleanly within the shutdown bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { uniqueName } from '../helpers/env.ts';
import { IMAGE } from '../helpers/deployment-topology.ts';
import { apiClient, orderDefinition, startShippingTarget, tokensEnv } from './order-workflow.ts';
import { Container, freePort, podman } from './podman.ts';

const TOKEN = 'image-embedded-token';
const SHUTDOWN_MS = 6000;
const volume = uniqueName('capstan-data').replace(/_/g, '-');
const target = startShippingTarget();
const containers: Container[] = [];
let port: number;
let first: Container;
let shippedRunId: string;
let waitingRunId: string;
let waitingBefore: unknown;

async function start(): Promise<Container> {
  const c = await Container.run({
    label: 'embedded',
    port,
    volume: `${volume}:${IMAGE.dataDir}`,
    env: { CAPSTAN_AUTH__TOKENS: tokensEnv('admin', hashToken(TOKEN)), CAPSTAN_SERVER__SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS) },
  });
  containers.push(c);
  return c;
}
const api = () => apiClient(`${first.url}/api/v1/workflow`, TOKEN);

beforeAll(async () => {
  port = await freePort();
  first = await start();
}, 300_000);

afterAll(async () => {
  for (const c of containers) await c.remove();
  await podman(['volume', 'rm', '-f', volume]);
  target.stop();
});

describe('the image, embedded mode', () => {
  it('is healthy by its own HEALTHCHECK and ready with PGlite and in-memory services', async () => {
    const check = await podman(['healthcheck', 'run', first.name]);
    expect(check.code, check.stderr + check.stdout).toBe(0);
    const ready = (await (await fetch(`${first.url}/readyz`)).json()) as { status: string; dependencies: Record<string, { kind: string }> };
    expect(ready.status).toBe('ready');
    expect(ready.dependencies.database?.kind).toBe('pglite');
    const cfg = ((await first.inspect()).Config as { Healthcheck?: { Test: string[] } }).Healthcheck;
    expect(cfg?.Test).toEqual(['CMD', '/usr/local/bin/capstan', 'health']);
  });

  it('runs capstan as the non-root user under tini, and refuses requests without a token', async () => {
    expect((await first.exec(['id', '-u'])).stdout.trim()).toBe(String(IMAGE.uid));
    expect((await first.exec(['cat', '/proc/1/comm'])).stdout.trim()).toBe('tini');
    expect((await fetch(`${first.url}/api/v1`)).status).toBe(401);
  });

  it('runs a workflow end to end: callback, http step to a target outside the container, shipped', async () => {
    const call = api();
    expect((await call('POST', '/definitions', orderDefinition(target.port), 'application/yaml')).status).toBe(201);
    const started = await call<{ runId: string }>('POST', '/workflows/order/runs', { foreignId: 'order-1', object: { items: 2 } });
    expect(started.status).toBe(201);
    shippedRunId = started.body.runId;
    expect((await call('POST', `/runs/${shippedRunId}/callback/created`, { status: 'paid' })).status).toBe(200);
    const done = await call('GET', `/runs/${shippedRunId}/await?status=shipped&timeout=60s`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'shipped', runState: 'completed', object: { items: 2, shippedBy: 'target' } });
    expect(target.calls).toContainEqual({ runId: shippedRunId, status: 'paid' });
    // A second run is left waiting for its callback across the restart.
    const waiting = await call<{ runId: string }>('POST', '/workflows/order/runs', { foreignId: 'order-2' });
    expect(waiting.status).toBe(201);
    waitingRunId = waiting.body.runId;
    waitingBefore = (await call('GET', `/runs/${waitingRunId}`)).body;
    expect(waitingBefore).toMatchObject({ status: 'created' });
  });

  it('podman stop ends it cleanly within the shutdown bound, even with an event stream open', async () => {
    const stream = await fetch(`${first.url}/api/v1/events?pattern=workflow.>`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read(); // subscribed
    // Keep reading (a stream nobody reads may be dropped by the client) until the server closes it.
    const closed = (async () => {
      try {
        while (!(await reader.read()).done);
      } catch {
        // a reset counts as closed too
      }
      return 'closed by the server';
    })();
    // Past the bound plus 5 s podman would SIGKILL: the exit code would be 137, not 0.
    const { exitCode, ms } = await first.stop(SHUTDOWN_MS / 1000 + 5);
    expect(await closed).toBe('closed by the server');
    const logs = await first.logs();
    expect(exitCode, logs).toBe(0);
    expect(logs).toContain('received SIGTERM, shutting down');
    expect(logs).toContain('closing requests still open after the drain period');
    expect(logs).toContain('shutdown complete');
    console.log(`embedded: podman stop took ${ms} ms (bound ${SHUTDOWN_MS} ms, half of it to drain the open stream)`);
  });

  it('keeps definitions, runs and history in the /data volume: a new container carries on where the old one stopped', async () => {
    await first.remove();
    first = await start();
    const call = api();
    expect((await call('GET', '/definitions/order')).status).toBe(200);
    const shipped = await call<{ history: { status: string }[] }>('GET', `/runs/${shippedRunId}/history`);
    expect(shipped.body.history.map((h) => h.status)).toEqual(['created', 'paid', 'shipped']);
    expect((await call('GET', `/runs/${waitingRunId}`)).body).toEqual(waitingBefore);
    expect((await call('POST', `/runs/${waitingRunId}/callback/created`, { status: 'paid' })).status).toBe(200);
    const done = await call('GET', `/runs/${waitingRunId}/await?status=shipped&timeout=60s`);
    expect(done.status).toBe(200);
    expect(target.calls.filter((c) => c.runId === waitingRunId)).toEqual([{ runId: waitingRunId, status: 'paid' }]);
  });
});
