/**
 * `bun bench/http-breakdown.ts`: where the kernel's HTTP time goes. Serves a bare Hono app with the kernel's
 * middlewares added one at a time (each variant in its own process, as in bench/http.ts) and prints req/s per variant.
 * Not part of run.ts: it explains the http figures, it is not a goal.
 */
import { join } from 'node:path';
import { createRoute, z } from '@hono/zod-openapi';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { authenticate, hashToken, requireModuleScope } from '../src/kernel/http/auth.ts';
import { MemoryRateCounter, rateLimit } from '../src/kernel/http/rate-limit.ts';
import { createRouter } from '../src/kernel/http/router.ts';
import { createMetrics } from '../src/kernel/metrics.ts';
import { drive } from './lib/load.ts';
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
  '+ requestId': [requestId()],
  '+ timing histogram': [timing()],
  '+ bodyLimit': [bodyLimit({ maxSize: 1_048_576 })],
  '+ requestId, timing, bodyLimit (the /healthz path)': [requestId(), timing(), bodyLimit({ maxSize: 1_048_576 })],
};

const POST_VARIANTS = ['bare Hono, hand checks', '+ authenticate (SHA-256 lookup)', '+ zod route (createRouter)', '+ authenticate, rateLimit, scope, zod route', '+ all of the above and requestId, timing, bodyLimit'];

function getApp(variant: string) {
  const app = new Hono();
  for (const m of GET_VARIANTS[variant]!) app.use(m);
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  return app;
}

function postApp(i: number) {
  const app = createRouter();
  if (i === 4) app.use(requestId(), timing(), bodyLimit({ maxSize: 1_048_576 }));
  if (i === 1 || i >= 3) app.use(authenticate(true, [{ name: 'bench', sha256: hashToken(TOKEN), scopes: ['bench:write'], rateLimitPerMinute: 1_000_000_000 }]));
  if (i >= 3) app.use('/api/*', rateLimit(new MemoryRateCounter(), 6000), requireModuleScope('bench'));
  if (i >= 2) {
    const body = z.strictObject({ text: z.string().min(1), times: z.number().int().min(1).max(5).default(1) });
    const route = createRoute({
      method: 'post',
      path: '/api/v1/bench/say',
      request: { body: { content: { 'application/json': { schema: body } }, required: true } },
      responses: { 200: { description: 'echoed', content: { 'application/json': { schema: z.object({ said: z.string() }) } } } },
    });
    app.openapi(route, (c) => {
      const b = c.req.valid('json');
      return c.json({ said: b.text.repeat(b.times) }, 200);
    });
  } else {
    app.post('/api/v1/bench/say', async (c) => {
      const b = (await c.req.json()) as { text?: unknown; times?: unknown };
      if (typeof b.text !== 'string' || b.text.length === 0 || (b.times !== undefined && typeof b.times !== 'number')) return c.json({ error: 'bad body' }, 400);
      return c.json({ said: b.text.repeat((b.times as number | undefined) ?? 1) });
    });
  }
  return app;
}

async function serveChild(kind: string, variant: string) {
  const app = kind === 'get' ? getApp(variant) : postApp(Number(variant));
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch });
  process.stdout.write(`listening ${server.port}\n`);
  const reader = Bun.stdin.stream().getReader();
  while (!(await reader.read()).done) {
    // Waits for the parent to close stdin.
  }
  await server.stop(true);
  process.exit(0);
}

async function measure(kind: 'get' | 'post', variant: string): Promise<number[]> {
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
    const out: number[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await drive({ ...spec, seconds: 3 });
      if (r.non2xx > 0 || r.socketErrors > 0) throw new Error(`variant ${variant}: ${r.non2xx} non-2xx, ${r.socketErrors} socket errors`);
      out.push(r.rps);
    }
    return out;
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
    ['post', POST_VARIANTS.map((_, i) => String(i))],
  ] as const) {
    let base = Number.NaN;
    for (const v of variants) {
      const rps = median(await measure(kind, v));
      if (Number.isNaN(base)) base = rps;
      const label = kind === 'get' ? `GET /healthz ${v}` : `POST ${POST_VARIANTS[Number(v)]}`;
      process.stdout.write(`${label.padEnd(70)} ${formatNumber(rps).padStart(8)} req/s  ${(rps / base).toFixed(2)}\n`);
    }
  }
  process.exit(0);
}
