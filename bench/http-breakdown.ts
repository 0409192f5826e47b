/**
 * `bun bench/http-breakdown.ts`: where the kernel's HTTP time goes. Serves a bare Hono app with the kernel's
 * middlewares added one at a time (each variant in its own process, as in bench/http.ts) and prints req/s and the
 * server's CPU time per request (which other load on the machine disturbs much less than req/s).
 * Not part of run.ts: it explains the http figures, it is not a goal.
 */
import { join } from 'node:path';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { authenticate, hashToken, requireModuleScope } from '../src/kernel/http/auth.ts';
import { MemoryRateCounter, rateLimit } from '../src/kernel/http/rate-limit.ts';
import { createRouter } from '../src/kernel/http/router.ts';
import { defineRoute } from '../src/kernel/http/route.ts';
import { createMetrics } from '../src/kernel/metrics.ts';
import { drive } from './lib/load.ts';
import { processCpuUs } from './lib/proc.ts';
import { formatNumber, median } from './lib/stats.ts';

const TOKEN = 'breakdown-token';
const BODY = JSON.stringify({ text: 'hello', times: 2 });

/** A copy of createApp's timing middleware (it is inline there): one histogram observation per request. */
function timing(): MiddlewareHandler {
  const metrics = createMetrics();
  return async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : c.req.path;
    metrics.httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, (performance.now() - started) / 1000);
  };
}

const GET_VARIANTS: Record<string, MiddlewareHandler[]> = {
  'bare Hono': [],
  '+ one no-op async middleware': [async (_c, next) => next()],
  '+ one response header set': [
    async (c, next) => {
      c.header('x-bench', '1');
      await next();
    },
  ],
  '+ requestId': [requestId()],
  '+ timing histogram': [timing()],
  '+ bodyLimit': [bodyLimit({ maxSize: 1_048_576 })],
  '+ requestId, timing, bodyLimit (the /healthz path)': [requestId(), timing(), bodyLimit({ maxSize: 1_048_576 })],
};

/** POST variants as sets of kernel pieces: auth (authenticate), rate (rateLimit), scope (requireModuleScope), zod (createRouter route), outer (requestId, timing, bodyLimit). */
const POST_VARIANTS: Record<string, string[]> = {
  'createRouter() app, hand checks': [],
  '+ authenticate (SHA-256 lookup)': ['auth'],
  '+ authenticate, rateLimit': ['auth', 'rate'],
  '+ authenticate, requireModuleScope': ['auth', 'scope'],
  '+ zod route (createRouter)': ['zod'],
  '+ authenticate, rateLimit, scope, zod route': ['auth', 'rate', 'scope', 'zod'],
  '+ all of the above and requestId, timing, bodyLimit': ['auth', 'rate', 'scope', 'zod', 'outer'],
};

function getApp(variant: string) {
  const app = new Hono();
  for (const m of GET_VARIANTS[variant]!) app.use(m);
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  return app;
}

function postApp(variant: string) {
  const has = (piece: string) => POST_VARIANTS[variant]!.includes(piece);
  const app = createRouter('bench');
  if (has('outer')) app.use(requestId(), timing(), bodyLimit({ maxSize: 1_048_576 }));
  if (has('auth')) app.use(authenticate(true, [{ name: 'bench', sha256: hashToken(TOKEN), scopes: ['bench:write'], rateLimitPerMinute: 1_000_000_000 }]));
  if (has('rate')) app.use('/api/*', rateLimit(new MemoryRateCounter(), 6000));
  if (has('scope')) app.use('/api/v1/bench/*', requireModuleScope('bench'));
  if (has('zod')) {
    const body = z.strictObject({ text: z.string().min(1), times: z.number().int().min(1).max(5).default(1) });
    const route = defineRoute({
      method: 'post',
      path: '/api/v1/bench/say',
      operationId: 'benchSay',
      summary: 'echo (benchmark)',
      request: { body: { content: { 'application/json': { schema: body } }, required: true } },
      responses: { 200: { description: 'echoed', content: { 'application/json': { schema: z.object({ said: z.string() }) } } } },
    });
    app.openapi(route, (c) => {
      const b = c.req.valid('json');
      return c.json({ said: b.text.repeat(b.times) }, 200);
    });
  } else {
    // The bare variant: a plain handler, as a router without the document would have it.
    (app as OpenAPIHono).post('/api/v1/bench/say', async (c) => {
      const b = (await c.req.json()) as { text?: unknown; times?: unknown };
      if (typeof b.text !== 'string' || b.text.length === 0 || (b.times !== undefined && typeof b.times !== 'number')) return c.json({ error: 'bad body' }, 400);
      return c.json({ said: b.text.repeat((b.times as number | undefined) ?? 1) });
    });
  }
  return app;
}

async function serveChild(kind: string, variant: string) {
  const app = kind === 'get' ? getApp(variant) : postApp(variant);
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch });
  process.stdout.write(`listening ${server.port}\n`);
  const reader = Bun.stdin.stream().getReader();
  while (!(await reader.read()).done) {
    // Waits for the parent to close stdin.
  }
  await server.stop(true);
  process.exit(0);
}

/** Median req/s and median server CPU µs per request over the measured rounds. */
async function measure(kind: 'get' | 'post', variant: string): Promise<{ rps: number; cpuUs: number }> {
  const p = Bun.spawn([process.execPath, join(import.meta.dirname, 'http-breakdown.ts'), '--serve', kind, variant], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' });
  const reader = p.stdout.getReader();
  let text = '';
  while (!/listening (\d+)\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`variant ${variant} exited early`);
    text += new TextDecoder().decode(value);
  }
  const url = `http://127.0.0.1:${/listening (\d+)/.exec(text)![1]}${kind === 'get' ? '/healthz' : '/api/v1/bench/say'}`;
  const spec = { url, method: kind === 'get' ? ('GET' as const) : ('POST' as const), body: BODY, token: TOKEN, connections: 64 };
  try {
    await drive({ ...spec, seconds: 1 });
    const rps: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = processCpuUs(p.pid);
      const r = await drive({ ...spec, seconds: 3 });
      if (r.non2xx > 0 || r.socketErrors > 0) throw new Error(`variant ${variant}: ${r.non2xx} non-2xx, ${r.socketErrors} socket errors`);
      rps.push(r.rps);
      cpu.push((processCpuUs(p.pid) - before) / r.requests);
    }
    return { rps: median(rps), cpuUs: median(cpu) };
  } finally {
    await p.stdin.end();
    await p.exited;
  }
}

if (process.argv[2] === '--serve') {
  await serveChild(process.argv[3]!, process.argv[4]!);
} else {
  for (const [kind, variants] of [
    ['get', Object.keys(GET_VARIANTS)],
    ['post', Object.keys(POST_VARIANTS)],
  ] as const) {
    let base: { rps: number; cpuUs: number } | undefined;
    for (const v of variants) {
      const m = await measure(kind, v);
      base ??= m;
      const label = `${kind === 'get' ? 'GET /healthz' : 'POST'} ${v}`;
      const extra = m.cpuUs - base.cpuUs;
      process.stdout.write(`${label.padEnd(62)} ${formatNumber(m.rps).padStart(7)} req/s  server CPU ${formatNumber(m.cpuUs).padStart(5)} µs/req (${extra >= 0 ? '+' : '−'}${formatNumber(Math.abs(extra))})\n`);
    }
  }
  process.exit(0);
}
