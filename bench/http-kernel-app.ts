/** The kernel side of the HTTP benchmark: createApp over embedded resources with auth on and a small zod-validated module route. */
import { z } from '@hono/zod-openapi';
import { createApp } from '../src/kernel/http/app.ts';
import { hashToken } from '../src/kernel/http/auth.ts';
import { leaseRoutes } from '../src/kernel/http/lease-routes.ts';
import { MemoryRateCounter } from '../src/kernel/http/rate-limit.ts';
import { defineRoute } from '../src/kernel/http/route.ts';
import { createRouter } from '../src/kernel/http/router.ts';
import { createMetrics } from '../src/kernel/metrics.ts';
import { embeddedResources } from '../test/helpers/embedded-resources.ts';
import { PG_URL } from '../test/helpers/env.ts';
import { createPostgresDatabase } from '../src/kernel/db/postgres-database.ts';

/** The body both apps accept on POST /api/v1/bench/say. */
const sayBody = z.strictObject({ text: z.string().min(1), times: z.number().int().min(1).max(5).default(1) });

/** The bench module's routes: POST /say echoes the text `times` times. */
function benchRoutes() {
  const app = createRouter('bench');
  app.openapi(
    defineRoute({
      method: 'post',
      path: '/say',
      summary: 'Echo a text',
      operationId: 'benchSay',
      request: { body: { content: { 'application/json': { schema: sayBody } }, required: true } },
      responses: { 200: { description: 'echoed', content: { 'application/json': { schema: z.object({ said: z.string() }) } } } },
    }),
    (c) => {
      const body = c.req.valid('json');
      return c.json({ said: body.text.repeat(body.times) }, 200);
    },
  );
  return app;
}

/** Builds the kernel app as serve.ts does (minus the console), with one token allowed `bench:write`. */
export async function kernelApp(token: string, opts: { database?: 'pglite' | 'postgres' } = {}) {
  const metrics = createMetrics();
  // PGlite (the default, as embedded mode runs) or PostgreSQL (as distributed mode runs): see http.ts on why both.
  const db = opts.database === 'postgres' ? await createPostgresDatabase({ url: PG_URL, max: 2 }) : undefined;
  const resources = await embeddedResources(metrics, { db });
  const app = createApp({
    version: 'bench',
    resources,
    metrics,
    log: resources.log,
    // The token's own limit is far above any rate reached here: the limiter runs on every request but never refuses.
    auth: { enabled: true, tokens: [{ name: 'bench', sha256: hashToken(token), scopes: ['bench:write'], rateLimitPerMinute: 1_000_000_000 }], rateLimitPerMinute: 6000 },
    rateCounter: new MemoryRateCounter(),
    bodyLimitBytes: 1_048_576,
    modules: [{ name: 'bench', description: 'benchmark routes', enabled: true, routes: benchRoutes() }],
    leaseRoutes: leaseRoutes(resources.leases, 10_000),
  });
  return { fetch: app.fetch, close: () => resources.close() };
}
