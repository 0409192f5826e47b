/** The console's sign-in limit: failed logins counted per client address on the Redis rate counter, 429 with
 * Retry-After (an HTML form answer, or problem+json for JSON clients), shared by two instances, over after the window.
 * Real HTTP servers on loopback; requests leave from different 127.x source addresses, so each is another client. */
import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/kernel/http/app.ts';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { leaseRoutes } from '../../src/kernel/http/lease-routes.ts';
import { LoginLimiter, type LoginLimitConfig } from '../../src/kernel/http/login-limit.ts';
import { RedisRateCounter } from '../../src/kernel/http/rate-limit.ts';
import { createMetrics } from '../../src/kernel/metrics.ts';
import { consoleRoutes } from '../../src/kernel/ui/console.tsx';
import { embeddedResources } from '../helpers/embedded-resources.ts';
import { REDIS_URL, uniqueName } from '../helpers/env.ts';

const RIGHT = 'right-token';
const tokens = [{ name: 'ops', sha256: hashToken(RIGHT), scopes: ['admin'] }];
const MAX_FAILURES = 3;

const prefix = uniqueName('login');
const connections: Redis[] = [];
const servers: ReturnType<typeof Bun.serve>[] = [];
let resources: Awaited<ReturnType<typeof embeddedResources>>;

/** One instance: the real app with the console, its own Redis connection, on a free loopback port. */
function instance(limit: LoginLimitConfig): string {
  const redis = new Redis(REDIS_URL);
  connections.push(redis);
  const counter = new RedisRateCounter(redis, prefix);
  const app = createApp({
    version: '1.2.3',
    resources,
    metrics: createMetrics(),
    log: resources.log,
    auth: { enabled: true, tokens, rateLimitPerMinute: 1000 },
    rateCounter: counter,
    bodyLimitBytes: 4096,
    modules: [],
    leaseRoutes: leaseRoutes(resources.leases, 2_000),
    console: consoleRoutes({ version: '1.2.3', resources, modules: [], checkToken: (t) => t === RIGHT, loginLimiter: new LoginLimiter(counter, limit) }),
  });
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request sent from `from` (a loopback address), as a client on another machine would be seen. */
function send(base: string, path: string, o: { from: string; method?: string; body?: string; headers?: Record<string, string> }): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: o.method ?? 'GET', localAddress: o.from, headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const login = (base: string, from: string, token: string, accept = 'text/html,application/xhtml+xml,*/*;q=0.8') =>
  send(base, '/ui/login', { from, method: 'POST', body: new URLSearchParams({ token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', accept } });

/** Fails exactly the allowed number of times; each is an ordinary 401 with the form. */
async function failUpToTheLimit(base: string | string[], from: string) {
  for (let i = 0; i < MAX_FAILURES; i++) {
    const res = await login(Array.isArray(base) ? base[i % base.length]! : base, from, `wrong-${i}`);
    expect(res.status).toBe(401);
    expect(res.body).toContain('That token is not valid.');
  }
}

let a: string;
let b: string;
let short: string;
const SHORT_WINDOW_MS = 2_000;

beforeAll(async () => {
  resources = await embeddedResources(createMetrics());
  a = instance({ maxFailures: MAX_FAILURES, windowMs: 60_000 });
  b = instance({ maxFailures: MAX_FAILURES, windowMs: 60_000 });
  short = instance({ maxFailures: MAX_FAILURES, windowMs: SHORT_WINDOW_MS });
});
afterAll(async () => {
  for (const s of servers) await s.stop(true);
  const r = connections[0];
  if (r) {
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
  }
  await Promise.all(connections.map((c) => c.quit()));
  await resources?.close();
});

describe('console sign-in limit per client address', () => {
  it('answers the failure past the limit with 429, Retry-After and a readable line in the form, and refuses the right token too', async () => {
    const from = '127.0.0.2';
    await failUpToTheLimit(a, from);

    const refused = await login(a, from, 'wrong-again');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toContain('text/html');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body).toContain('Too many failed sign-in attempts from your address');
    expect(refused.body).toContain('<form method="post" action="/ui/login">');

    // While blocked, a right guess must not be told apart from a wrong one.
    const right = await login(a, from, RIGHT);
    expect(right.status).toBe(429);
    expect(right.headers['set-cookie']).toBeUndefined();

    // The block is on sign-in only: the same address still uses the API with its bearer token.
    expect((await send(a, '/api/v1', { from, headers: { authorization: `Bearer ${RIGHT}` } })).status).toBe(200);
  });

  it('lets another address sign in while one is blocked', async () => {
    const from = '127.0.0.3';
    const res = await login(a, from, RIGHT);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/ui');
    expect(String(res.headers['set-cookie'])).toMatch(/capstan_token=right-token;.*HttpOnly/);
  });

  it('answers a client asking for JSON with problem+json', async () => {
    const from = '127.0.0.6';
    const wrong = await login(a, '127.0.0.7', 'wrong', 'application/json');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(wrong.body)).toMatchObject({ code: 'Unauthorized', errors: [{ path: 'token' }] });
    await failUpToTheLimit(a, from);
    const res = await login(a, from, 'wrong', 'application/json');
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(res.body) as { code: string; status: number; detail: string; retryAfterSeconds: number };
    expect(problem).toMatchObject({ code: 'RateLimited', status: 429 });
    expect(problem.detail).toContain('sign-in');
    expect(String(problem.retryAfterSeconds)).toBe(res.headers['retry-after']);
  });

  it('shares one budget between two instances through Redis', async () => {
    const from = '127.0.0.4';
    await failUpToTheLimit([a, b], from);
    expect((await login(b, from, 'wrong')).status).toBe(429);
    expect((await login(a, from, RIGHT)).status).toBe(429);
  });

  it('lets the address sign in again once the window has ended', async () => {
    const from = '127.0.0.5';
    await failUpToTheLimit(short, from);
    const refused = await login(short, from, RIGHT);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeLessThanOrEqual(SHORT_WINDOW_MS / 1000);
    // Waiting what Retry-After says is enough (Redis expires the key to the millisecond).
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    const res = await login(short, from, RIGHT);
    expect(res.status).toBe(303);
    expect(String(res.headers['set-cookie'])).toContain('capstan_token=');
  });
});
