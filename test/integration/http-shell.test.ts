import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { prepareModules } from '../../src/kernel/boot/modules.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { createApp } from '../../src/kernel/http/app.ts';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { MemoryRateCounter } from '../../src/kernel/http/rate-limit.ts';
import { createMetrics } from '../../src/kernel/metrics.ts';
import type { Module } from '../../src/kernel/module.ts';
import { ModuleDisabled } from '../../src/kernel/errors.ts';
import { createRouter } from '../../src/kernel/http/router.ts';
import { currentRequestId, principalOf } from '../../src/kernel/http/request-state.ts';
import { defineRoute, documentedQuery } from '../../src/kernel/http/route.ts';
import { leaseRoutes } from '../../src/kernel/http/lease-routes.ts';
import { DIAGNOSTICS_QUEUE, startDiagnosticsWorker } from '../../src/kernel/diagnostics.ts';
import { embeddedResources } from '../helpers/embedded-resources.ts';
import { eventually } from '../kit/index.ts';
import { echoModule } from '../fixtures/echo-module.ts';

/** A second test module, disabled in config, plus a route that crashes to prove 500s leak nothing. */
const quietModule: Module = {
  name: 'quiet',
  description: 'disabled in these tests',
  configSchema: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
  actions: (ctx) => ctx.actions.register({ name: 'quiet.run', input: z.object({}), handler: async () => 'ran' }),
  routes: () => {
    const app = createRouter('quiet');
    app.openapi(defineRoute({ method: 'get', path: '/x', operationId: 'quietX', summary: 'never mounted', responses: { 200: { description: 'text' } } }), (c) => c.text('should never be mounted'));
    return app;
  },
};
const crashModule: Module = {
  name: 'crash',
  description: 'throws',
  configSchema: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  routes: () => {
    const app = createRouter('crash');
    app.openapi(defineRoute({ method: 'get', path: '/boom', operationId: 'crashBoom', summary: 'throws', responses: { 200: { description: 'never' } } }), () => {
      throw new Error('secret internal detail at /srv/app.ts:42');
    });
    // What postgres.js throws while PostgreSQL is down.
    app.openapi(defineRoute({ method: 'get', path: '/db-down', operationId: 'crashDbDown', summary: 'throws a connection error', responses: { 200: { description: 'never' } } }), () => {
      throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:5432 (secret host)'), { code: 'ECONNREFUSED' });
    });
    // Query parameters the handler reads itself, documented only (as cascades' list routes do), and a free-form query.
    app.openapi(defineRoute({ method: 'get', path: '/documented', operationId: 'crashDocumented', summary: 'documented query', parameters: documentedQuery(z.object({ after: z.string().optional() })), responses: { 200: { description: 'the query' } } }), (c) => c.json(c.req.query()));
    // A handler that builds its own Response (as streams do) and reads the caller and request id from the shell.
    app.openapi(defineRoute({ method: 'get', path: '/whoami', operationId: 'crashWhoami', summary: 'the caller, raw response', responses: { 200: { description: 'the caller' } } }), (c) =>
      new Response(JSON.stringify({ name: principalOf(c)?.name, requestId: currentRequestId(c) }), { headers: { 'content-type': 'application/json' } }),
    );
    app.openapi(defineRoute({ method: 'get', path: '/free', operationId: 'crashFree', summary: 'free-form query', request: { query: z.looseObject({ a: z.string().optional() }) }, responses: { 200: { description: 'the query' } } }), (c) => c.json(c.req.query()));
    return app;
  },
};

const metrics = createMetrics();
let resources: Awaited<ReturnType<typeof embeddedResources>>;

type App = ReturnType<typeof createApp>;
function build(auth: { enabled: boolean; tokens: { name: string; sha256: string; scopes: string[]; rateLimitPerMinute?: number }[] }): { app: App; host: ReturnType<typeof prepareModules> } {
  const modules = [echoModule, quietModule, crashModule];
  const cfg = loadConfig(modules, { env: {} });
  const host = prepareModules(modules, cfg, resources, 'all');
  const app = createApp({
    version: '9.9.9',
    resources,
    metrics,
    log: resources.log,
    auth: { ...auth, rateLimitPerMinute: 1000 },
    rateCounter: new MemoryRateCounter(),
    bodyLimitBytes: 1024,
    modules: host.mounted,
    leaseRoutes: leaseRoutes(resources.leases, 2_000),
  });
  return { app, host };
}

let open: App;
let host: ReturnType<typeof prepareModules>;
beforeAll(async () => {
  resources = await embeddedResources(metrics);
  ({ app: open, host } = build({ enabled: false, tokens: [] }));
});
afterAll(async () => {
  await resources.close();
});

const json = (body: unknown) => ({ method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('HTTP shell', () => {
  it('answers /healthz before the shell: JSON with its content type and no other header (no request id, no rate-limit headers)', async () => {
    const res = await open.request('/healthz', { headers: { 'x-request-id': 'probe-1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    const names: string[] = [];
    res.headers.forEach((_, name) => names.push(name));
    expect(names).toEqual(['content-type']);
  });

  it('runs around the app, not inside it: no middleware over every path, so an API route is Hono\'s only handler', () => {
    // A middleware on '/*' or a catch-all on '/api/*' puts every request on Hono's multi-handler (compose) path.
    expect(open.routes.filter((r) => r.path === '/*' || r.path === '/api/*')).toEqual([]);
  });

  it('hands the principal and request id to the route and adds its headers to a Response the route built itself', async () => {
    const res = await open.request('/api/v1/crash/whoami', { headers: { 'x-request-id': 'shell-test-1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'anonymous', requestId: 'shell-test-1' });
    expect(res.headers.get('x-request-id')).toBe('shell-test-1');
    expect(res.headers.get('ratelimit-limit')).toBe('1000');
    expect(Number(res.headers.get('ratelimit-remaining'))).toBeLessThan(1000);
  });

  it('reports each dependency on /readyz', async () => {
    const res = await open.request('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; dependencies: Record<string, { ok: boolean; kind: string }> };
    expect(body.status).toBe('ready');
    expect(Object.keys(body.dependencies).sort()).toEqual(['bus', 'database', 'kv', 'queue']);
    expect(body.dependencies.database).toMatchObject({ ok: true, kind: 'pglite' });
  });

  it('lists modules with their enabled flag and the version', async () => {
    const body = (await (await open.request('/api/v1')).json()) as { version: string; modules: { name: string; enabled: boolean }[] };
    expect(body.version).toBe('9.9.9');
    expect(body.modules).toEqual([
      { name: 'echo', description: 'test module that echoes', enabled: true },
      { name: 'quiet', description: 'disabled in these tests', enabled: false },
      { name: 'crash', description: 'throws', enabled: true },
    ]);
  });

  it('a disabled module mounts no routes (503) and its actions answer ModuleDisabled', async () => {
    const res = await open.request('/api/v1/quiet/x');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('ModuleDisabled');
    await expect(host.actions.call('quiet.run', {})).rejects.toBeInstanceOf(ModuleDisabled);
    expect(host.actions.list().map((a) => a.name)).toEqual(['echo.say']);
  });

  it('runs a validated module route that calls an action', async () => {
    const res = await open.request('/api/v1/echo/say', json({ text: 'ab', times: 2 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ said: 'hello abab' });
  });

  it('400 names each invalid field, including unknown ones', async () => {
    const res = await open.request('/api/v1/echo/say', json({ text: 5, times: 9, extra: true }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; errors: { path: string }[]; status: number };
    expect(body).toMatchObject({ code: 'Invalid', status: 400 });
    expect(body.errors.map((e) => e.path).sort()).toEqual(['body.extra', 'body.text', 'body.times']);
  });

  it('rejects malformed JSON with 400 and the wrong content type with 415, each naming the field', async () => {
    const bad = await open.request('/api/v1/echo/say', json('{"text": '));
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(await bad.json()).toMatchObject({ code: 'Invalid', errors: [{ path: 'body', message: 'not valid JSON' }] });
    const text = await open.request('/api/v1/echo/say', { method: 'POST', body: 'text=hi', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await text.json()) as { title: string; detail: string; code: string; errors: { path: string }[] };
    expect(problem).toMatchObject({ title: 'Unsupported Media Type', code: 'UnsupportedMediaType', errors: [{ path: 'header.content-type' }] });
    expect(problem.detail).toContain('application/json');
  });

  it('413 for a body over the limit', async () => {
    const res = await open.request('/api/v1/echo/say', json({ text: 'x'.repeat(5000) }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('PayloadTooLarge');
  });

  it('413 for a chunked body (no Content-Length) once it passes the limit', async () => {
    const chunk = new TextEncoder().encode(`{"text":"${'x'.repeat(400)}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await open.request('/api/v1/echo/say', { method: 'POST', body, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('PayloadTooLarge');
  });

  it('a body that is not valid UTF-8 is a 400 naming body on every route, before the route sees it (issue 7.4)', async () => {
    const enc = new TextEncoder();
    const withBadBytes = (before: string, after: string) => new Uint8Array([...enc.encode(before), 0xff, 0xfe, 0xc3, 0x28, ...enc.encode(after)]);
    const cases: [string, Uint8Array, string][] = [
      ['/api/v1/echo/say', withBadBytes('{"text":"', '"}'), 'application/json'],
      ['/api/v1/events', withBadBytes('{"type":"shell.utf8","data":"', '"}'), 'application/json'],
      ['/api/v1/queues/utf8q/jobs', withBadBytes('{"name":"', '"}'), 'application/json'],
      ['/api/v1/echo/say', withBadBytes('text=', ''), 'text/plain'],
      ['/api/v1/echo/say', withBadBytes('', ''), ''],
    ];
    for (const [path, body, type] of cases) {
      const res = await open.request(path, { method: 'POST', body: body.buffer as ArrayBuffer, headers: type ? { 'content-type': type } : {} });
      expect(res.status, `${path} ${type}`).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'Invalid', errors: [{ path: 'body', message: 'not valid UTF-8' }] });
    }
    // Valid multi-byte UTF-8 still passes through unchanged.
    const ok = await open.request('/api/v1/echo/say', json({ text: 'ä€😀' }));
    expect(await ok.json()).toEqual({ said: 'hello ä€😀' });
  });

  it('JSON nested past the limit is a 400 naming where, on any route, before its schema runs (issue 7.3)', async () => {
    const deep = `{"type":"shell.deep","data":{"a":${'['.repeat(200)}${']'.repeat(200)}}}`;
    const res = await open.request('/api/v1/events', json(deep));
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors[0]!.path).toBe(`body.data.a${'.0'.repeat(126)}`);
    expect(problem.errors[0]!.message).toContain('nested deeper than 128 levels');
    // Brackets inside strings are text, not nesting.
    expect((await open.request('/api/v1/echo/say', json({ text: '['.repeat(500) }))).status).toBe(200);
  });

  it('500 never leaks the error text or a stack, and carries the request id', async () => {
    const res = await open.request('/api/v1/crash/boom');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret internal detail');
    expect(text).not.toContain('.ts:');
    expect(JSON.parse(text).requestId).toBe(res.headers.get('x-request-id'));
  });

  it('503 with Retry-After, not 500, when a dependency is unreachable; the cause is not sent', async () => {
    const res = await open.request('/api/v1/crash/db-down');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = await res.json();
    expect(body.code).toBe('Unavailable');
    expect(JSON.stringify(body)).not.toContain('10.0.0.9');
  });

  it('anonymous callers share a budget per connection address: a forged X-Forwarded-For does not buy a fresh one', async () => {
    const remaining = async (forwardedFor: string) => Number((await open.request('/api/v1/echo/hello', { headers: { 'x-forwarded-for': forwardedFor } })).headers.get('ratelimit-remaining'));
    const first = await remaining('10.1.1.1');
    expect(await remaining('10.2.2.2')).toBe(first - 1);
    expect(await remaining('10.3.3.3')).toBe(first - 2);
  });

  it('404 problem for unknown API routes', async () => {
    const res = await open.request('/api/v1/nope/nothing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('405 with Allow, not 404, for a known path asked with a method it does not answer', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/api/v1/echo/hello', 'GET, HEAD'],
      ['GET', '/api/v1/echo/say', 'POST'],
      ['PUT', '/api/v1/events', 'GET, HEAD, POST'],
      ['PATCH', '/api/v1/queues/q1/jobs/j1', 'DELETE, GET, HEAD'],
      ['POST', '/metrics', 'GET, HEAD'],
      ['DELETE', '/api/v1', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await open.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 405, code: 'MethodNotAllowed', title: 'Method Not Allowed', instance: path });
    }
    // An unknown path is still a 404, inside and outside /api.
    expect((await open.request('/api/v1/echo/nothing', { method: 'DELETE' })).status).toBe(404);
    expect((await open.request('/nothing', { method: 'POST' })).status).toBe(404);
  });

  it('400 naming each unknown query parameter on routes made with defineRoute; declared and free-form ones pass', async () => {
    const typo = await open.request('/api/v1/queues/adminq/failed?limt=5&offset=0');
    expect(typo.status).toBe(400);
    expect(typo.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await typo.json()) as { code: string; errors: { path: string; message: string }[] };
    expect(problem.code).toBe('Invalid');
    expect(problem.errors).toEqual([{ path: 'query.limt', message: 'unknown parameter; this operation takes: limit, offset' }]);
    expect((await open.request('/api/v1/queues/adminq/failed?limit=5&offset=0')).status).toBe(200);
    // A route with no query at all, a POST with a validated body, a documented-only parameter, the events pattern.
    const none = await open.request('/api/v1/echo/hello?x=1');
    expect(none.status).toBe(400);
    expect(((await none.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['query.x']);
    expect((await open.request('/api/v1/echo/say?dry%20run=1', json({ text: 'a' }))).status).toBe(400);
    expect((await open.request('/api/v1/crash/documented?after=3')).status).toBe(200);
    expect((await open.request('/api/v1/crash/documented?aftr=3')).status).toBe(400);
    expect(await (await open.request('/api/v1/crash/free?a=1&anything=2')).json()).toEqual({ a: '1', anything: '2' });
    expect((await open.request('/api/v1/events?pattern=a.b&patern=c')).status).toBe(400);
    expect((await open.request('/metrics?format=x')).status).toBe(400);
  });

  it('serves OpenAPI generated from the route schemas', async () => {
    const doc = (await (await open.request('/api/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/echo/say']?.post?.requestBody).toBeTruthy();
    expect(doc.paths['/api/v1/events']?.post).toBeTruthy();
  });

  it('publishes events over HTTP and streams them as SSE filtered by pattern', async () => {
    const res = await open.request('/api/v1/events?pattern=shell.*.hit');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    await reader.read(); // the ': subscribed' comment: the subscription is live from here on
    for (const type of ['shell.a.miss', 'shell.b.hit']) {
      const pub = await open.request('/api/v1/events', json({ type, data: { type } }));
      expect(pub.status).toBe(202);
    }
    while (!seen.includes('shell.b.hit')) seen += decoder.decode((await reader.read()).value);
    await reader.cancel();
    expect(seen).toContain('"type":"shell.b.hit"');
    expect(seen).not.toContain('shell.a.miss');
  });

  it('rejects bad event bodies and bad patterns', async () => {
    expect((await open.request('/api/v1/events', json({ type: 'NoDots', data: 1 }))).status).toBe(400);
    expect((await open.request('/api/v1/events', json({ type: 'a.b', data: 1, extra: 1 }))).status).toBe(400);
    expect((await open.request('/api/v1/events?pattern=a..b')).status).toBe(400);
  });

  it('exposes Prometheus metrics including HTTP durations by route and bus counters', async () => {
    const text = await (await open.request('/metrics')).text();
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/echo\/say",status="200"\} [1-9]/);
    expect(text).toMatch(/bus_published_total\{type="shell\.b"\} 1/);
    expect(text).toContain('process_cpu_seconds_total');
  });
});

describe('queue and lease admin routes', () => {
  it('adds a diagnostics ping, which a worker completes; lists queues with counts', async () => {
    const worker = await startDiagnosticsWorker(resources.queue, resources.bus, resources.instanceId);
    try {
      const added = await open.request(`/api/v1/queues/${DIAGNOSTICS_QUEUE}/jobs`, json({ name: 'ping' }));
      expect(added.status).toBe(201);
      const { id } = (await added.json()) as { id: string };
      type Job = { state: string; returnValue?: { instanceId: string } };
      const job = await eventually(
        async () => {
          const j = (await (await open.request(`/api/v1/queues/${DIAGNOSTICS_QUEUE}/jobs/${id}`)).json()) as Job;
          expect(j.state).toBe('completed');
          return j;
        },
        { timeout: 10_000, what: 'the ping job completed' },
      );
      expect(job.returnValue?.instanceId).toBe('test-instance');
      const list = (await (await open.request('/api/v1/queues')).json()) as { queues: { name: string; counts: { completed: number } }[] };
      expect(list.queues.find((q) => q.name === DIAGNOSTICS_QUEUE)?.counts.completed).toBeGreaterThanOrEqual(1);
    } finally {
      await worker.close();
    }
  });

  it('fails unknown jobs into the failed list, then retries and removes them', async () => {
    const { id } = (await (await open.request('/api/v1/queues/adminq/jobs', json({ name: 'x', data: { a: 1 } }))).json()) as { id: string };
    const worker = await resources.queue.work('adminq', async () => {
      throw new Error('always fails');
    });
    try {
      type Failed = { jobs: { id: string; failedReason?: string }[] };
      const failed = await eventually(
        async () => {
          const f = (await (await open.request('/api/v1/queues/adminq/failed')).json()) as Failed;
          return f.jobs.length > 0 ? f : undefined;
        },
        { timeout: 10_000, what: 'the job in the failed list' },
      );
      expect(failed.jobs[0]).toMatchObject({ id, failedReason: 'always fails' });
      expect((await open.request(`/api/v1/queues/adminq/jobs/${id}/retry`, { method: 'POST' })).status).toBe(202);
    } finally {
      await worker.close();
    }
    expect((await open.request(`/api/v1/queues/adminq/jobs/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await open.request(`/api/v1/queues/adminq/jobs/${id}`)).status).toBe(404);
    expect((await open.request('/api/v1/queues/adminq/jobs/nope/retry', { method: 'POST' })).status).toBe(404);
    expect((await open.request('/api/v1/queues/bad name/jobs', json({ name: 'x' }))).status).toBe(400);
  });

  it('acquires a lease once (201), reports it, refuses a second owner, releases', async () => {
    const first = await open.request('/api/v1/leases/shell-lease', json({ ttlMs: 2000 }));
    expect(first.status).toBe(201);
    const lease = (await first.json()) as { owner: string; token: number };
    expect(lease.owner).toBe('test-instance');
    const info = (await (await open.request('/api/v1/leases/shell-lease')).json()) as { owner: string; token: number };
    expect(info).toMatchObject({ owner: 'test-instance', token: lease.token });
    const other = await resources.leases.acquire('shell-lease', { ttlMs: 2000 });
    expect(other).toBeUndefined();
    expect((await open.request('/api/v1/leases/shell-lease', { method: 'DELETE' })).status).toBe(204);
    const after = await resources.leases.acquire('shell-lease', { ttlMs: 2000 });
    expect(after?.token).toBeGreaterThan(lease.token);
    await after?.release();
    expect((await open.request('/api/v1/leases/bad.name', json({})) ).status).toBe(400);
  });
});

describe('HTTP auth and rate limit', () => {
  const tokens = [
    { name: 'admin', sha256: hashToken('admin-secret'), scopes: ['admin'] },
    { name: 'reader', sha256: hashToken('reader-secret'), scopes: ['echo:read'] },
    { name: 'limited', sha256: hashToken('limited-secret'), scopes: ['echo:write'] },
    { name: 'burst', sha256: hashToken('burst-secret'), scopes: ['echo:read'], rateLimitPerMinute: 3 },
  ];
  let app: App;
  beforeAll(() => {
    ({ app } = build({ enabled: true, tokens }));
  });
  const as = (token: string, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });

  it('401 without a token or with an unknown one; health stays open', async () => {
    expect((await app.request('/api/v1')).status).toBe(401);
    expect((await app.request('/api/v1', as('wrong'))).status).toBe(401);
    expect((await app.request('/api/v1', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/metrics')).status).toBe(401);
  });

  it('403 when a scope is missing; write implies read; admin has all', async () => {
    expect((await app.request('/api/v1/echo/hello', as('reader-secret'))).status).toBe(200);
    const denied = await app.request('/api/v1/echo/say', as('reader-secret', json({ text: 'x' })));
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { detail: string }).detail).toContain('echo:write');
    expect((await app.request('/api/v1/echo/hello', as('limited-secret'))).status).toBe(200);
    expect((await app.request('/api/v1/events', as('reader-secret', json({ type: 'a.b', data: 1 })))).status).toBe(403);
    expect((await app.request('/api/v1/events', as('admin-secret', json({ type: 'a.b', data: 1 })))).status).toBe(202);
    expect((await app.request('/metrics', as('admin-secret'))).status).toBe(200);
  });

  it('429 with Retry-After once a token spends its per-minute budget', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await app.request('/api/v1/echo/hello', as('burst-secret'));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another token's budget is separate.
    expect((await app.request('/api/v1/echo/hello', as('reader-secret'))).status).toBe(200);
  });
});
