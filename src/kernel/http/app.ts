/** Composes the HTTP shell: request ids, metrics, body limit, auth, rate limit, health, events, OpenAPI, modules, console. */
import type { ModuleRouter } from '../module.ts';
import { ModuleDisabled, NotFound } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { KernelMetrics } from '../metrics.ts';
import type { Resources } from '../resources.ts';
import type { AppEnv } from './app-env.ts';
import { authenticate, requireAnyScope, requireModuleScope, type TokenRecord } from './auth.ts';
import { eventsRoutes } from './events-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { errorHandler, problemResponse } from './problem.ts';
import { rateLimit, type RateCounter } from './rate-limit.ts';
import type { leaseRoutes } from './lease-routes.ts';
import { queueRoutes } from './queue-routes.ts';
import { createRouter } from './router.ts';
import { requestContext } from './request-context.ts';

/** A module as the HTTP shell sees it. */
export interface MountedModule {
  name: string;
  description: string;
  enabled: boolean;
  routes?: ModuleRouter;
  ui?: ModuleRouter;
}

/** Everything the shell needs. */
export interface AppOptions {
  version: string;
  resources: Resources;
  metrics: KernelMetrics;
  log: Logger;
  auth: { enabled: boolean; tokens: TokenRecord[]; rateLimitPerMinute: number };
  rateCounter: RateCounter;
  bodyLimitBytes: number;
  modules: MountedModule[];
  /** The lease admin routes; owned by the server so it can release the leases on shutdown. */
  leaseRoutes: ReturnType<typeof leaseRoutes>;
  /** The console (mounted at /ui); built by the kernel's ui/ folder. */
  console?: ModuleRouter;
}

/** Builds the Hono app; the same app serves every role that answers HTTP. */
export function createApp(o: AppOptions) {
  const app = createRouter();
  app.onError(errorHandler(o.log));
  app.notFound((c) => problemResponse(c, 404, 'NotFound', `no route for ${c.req.method} ${c.req.path}`));
  app.use(requestContext({ metrics: o.metrics, log: o.log, bodyLimitBytes: o.bodyLimitBytes }));

  app.route('/', healthRoutes(o.resources));

  app.use(authenticate(o.auth.enabled, o.auth.tokens));
  app.use('/api/*', rateLimit(o.rateCounter, o.auth.rateLimitPerMinute));

  app.get('/metrics', requireAnyScope('metrics:read'), async (c) => {
    const body = await o.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': o.metrics.registry.contentType });
  });

  app.get('/api/v1', requireAnyScope(), (c) =>
    c.json({
      name: 'capstan',
      version: o.version,
      mode: o.resources.mode,
      instanceId: o.resources.instanceId,
      modules: o.modules.map((m) => ({ name: m.name, description: m.description, enabled: m.enabled })),
    }),
  );
  app.use('/api/v1/openapi.json', requireAnyScope());
  app.doc31('/api/v1/openapi.json', { openapi: '3.1.0', info: { title: 'Capstan API', version: o.version } });

  app.route('/api/v1/events', eventsRoutes(o.resources.bus, o.resources.instanceId));
  app.route('/api/v1/queues', queueRoutes(o.resources.queue));
  app.route('/api/v1/leases', o.leaseRoutes);

  for (const m of o.modules) {
    const base = `/api/v1/${m.name}`;
    if (!m.enabled) {
      app.all(`${base}/*`, () => {
        throw new ModuleDisabled(m.name);
      });
      continue;
    }
    app.use(`${base}/*`, requireModuleScope(m.name));
    if (m.routes) app.route(base, m.routes);
  }

  if (o.console) app.route('/ui', o.console);
  app.get('/', (c) => (o.console ? c.redirect('/ui') : c.json({ name: 'capstan', version: o.version })));
  app.all('/api/*', (c) => {
    throw new NotFound(`route ${c.req.method} ${c.req.path}`);
  });
  return app;
}
