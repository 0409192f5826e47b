/** `capstan health` (the container's HEALTHCHECK) and the probes a worker-role instance serves. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/child-services.ts';
import { runCapstan, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

let server: ServerProcess;
let worker: ServerProcess;
const dir = tempDir('capstan-health-');

beforeAll(async () => {
  [server, worker] = await Promise.all([
    startServer({ args: ['--data-dir', join(dir, 'all')] }),
    startServer({ args: ['--role', 'worker', '--data-dir', join(dir, 'worker')] }),
  ]);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await worker?.stop();
});

describe('capstan health', () => {
  it('finds the server from the same variables serve reads, and exits 0 for /healthz and /readyz', async () => {
    const port = new URL(server.url).port;
    const live = await runCapstan(['health'], { env: { CAPSTAN_PORT: port } });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain(`http://127.0.0.1:${port}/healthz`);
    // A wildcard bind (the image sets CAPSTAN_HOST=0.0.0.0) is probed on loopback.
    const ready = await runCapstan(['health', '--ready'], { env: { CAPSTAN_SERVER__PORT: port, CAPSTAN_HOST: '0.0.0.0', CAPSTAN_AUTH__ENABLED: 'true', CAPSTAN_AUTH__TOKENS: '[{name: x, sha256: ' + 'a'.repeat(64) + ', scopes: [admin]}]' } });
    expect(ready.code, ready.stderr).toBe(0);
    expect(ready.stdout).toContain(`http://127.0.0.1:${port}/readyz`);
  });

  it('exits 1 naming the URL when nothing answers', async () => {
    const port = await freePort(); // bound, then released: nothing listens there
    const r = await runCapstan(['health', '--timeout', '2000'], { env: { CAPSTAN_PORT: String(port) } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`not ok: http://127.0.0.1:${port}/healthz did not answer`);
  });

  it('exits 2 on bad flags', async () => {
    const t = await runCapstan(['health', '--timeout', 'soon']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--timeout');
    const f = await runCapstan(['health', '--live']);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('--live');
  });
});

describe('a worker-role instance', () => {
  it('serves /healthz and /readyz so every role is probed the same way', async () => {
    expect(worker.output()).toContain('worker: /healthz, /readyz and /metrics only');
    expect(await (await fetch(`${worker.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${worker.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ready');
    const probe = await runCapstan(['health', '--ready', '--server', worker.url]);
    expect(probe.code, probe.stderr).toBe(0);
  });

  it('serves /metrics with each dependency\'s readiness and the outbox backlog, so Prometheus scrapes the instances doing the work', async () => {
    const res = await fetch(`${worker.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const dependency of ['database', 'queue', 'bus', 'kv']) expect(text).toMatch(new RegExp(`^dependency_up\\{dependency="${dependency}",kind="[a-z-]+"\\} 1$`, 'm'));
    expect(text).toMatch(/^outbox_pending_events \d+$/m);
    expect(text).toMatch(/^outbox_oldest_event_age_seconds [\d.e+-]+$/m);
    expect(text).toMatch(/^outbox_relay_leader 1$/m);
  });

  it('answers everything else with a problem+json 404, and a wrong method with 405', async () => {
    const res = await fetch(`${worker.url}/api/v1`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { detail: string }).detail).toContain('a worker serves only /healthz, /readyz and /metrics');
    // A path it serves, asked with another method: 405 with the methods it answers.
    const post = await fetch(`${worker.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toMatchObject({ code: 'MethodNotAllowed', status: 405 });
  });
});
