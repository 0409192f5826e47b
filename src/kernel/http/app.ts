/** Composes the HTTP shell: request ids, metrics, body limit, auth, rate limit, health, events, OpenAPI, modules, console. */
import type { ModuleRouter } from '../module.ts';
import type { ApiRouter } from './router.ts';
import { MethodNotAllowed, ModuleDisabled, NotFound } from '../errors.ts';
import { allowedMethodsOf } from './allowed-methods.ts';
import type { Logger } from '../log.ts';
import type { KernelMetrics } from '../metrics.ts';
import type { Resources } from '../resources.ts';
import type { AppEnv } from './app-env.ts';
import type { TokenRecord } from './auth.ts';
import { eventsRoutes } from './events-routes.ts';
import { errorHandler, problemResponse } from './problem.ts';
import type { RateCounter } from './rate-limit.ts';
import type { leaseRoutes } from './lease-routes.ts';
import { queueRoutes } from './queue-routes.ts';
import { createRouter } from './router.ts';
import { answerProbe } from './probes.ts';
import { DurationRecorder } from './request-context.ts';
import { shell } from './shell.ts';
import { registerSystemRoutes } from './system-routes.ts';
import { streamStatsOf, type StreamLimits, type StreamStats } from './stream-limits.ts';

/** A module as the HTTP shell sees it. */
export interface MountedModule {
  name: string;
  description: string;
  enabled: boolean;
  routes?: ApiRouter;
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
  /** What one event stream may hold for a slow client (default DEFAULT_STREAM_LIMITS). */
  eventStream?: StreamLimits;
  /** Counts the open event streams; default: one registered in `metrics.registry`. */
  streamStats?: StreamStats;
}

/** Builds the Hono app; the same app serves every role that answers HTTP. */
export function createApp(o: AppOptions) {
  const app = createRouter('system');
  const onError = errorHandler(o.log);
  app.onError(onError);
  // Filled in once every route is mounted (below): a known path asked with another method is a 405, not a 404.
  let allowed: (path: string) => string[] = () => [];
  const noRoute = (method: string, path: string, what: string) => {
    const allow = allowed(path);
    return allow.length > 0 ? new MethodNotAllowed(method, path, allow) : new NotFound(what);
  };
  app.notFound((c) => onError(noRoute(c.req.method, c.req.path, `route ${c.req.method} ${c.req.path}`), c));
  // Request id, auth, rate limit, module scopes, body checks and timing: one layer (see shell.ts).
  app.use(
    shell({
      metrics: o.metrics,
      log: o.log,
      bodyLimitBytes: o.bodyLimitBytes,
      auth: o.auth,
      rateCounter: o.rateCounter,
      moduleNames: o.modules.filter((m) => m.enabled).map((m) => m.name),
      onError,
    }),
  );

  registerSystemRoutes(app, { version: o.version, resources: o.resources, metrics: o.metrics, modules: o.modules, hasConsole: Boolean(o.console) });

  const streams = { limits: o.eventStream, stats: o.streamStats ?? streamStatsOf(o.metrics.registry) };
  app.route('/api/v1/events', eventsRoutes(o.resources.bus, o.resources.instanceId, streams));
  app.route('/api/v1/queues', queueRoutes(o.resources.queue));
  app.route('/api/v1/leases', o.leaseRoutes);

  for (const m of o.modules) {
    const base = `/api/v1/${m.name}`;
    if (!m.enabled) {
      app.use(`${base}/*`, () => {
        throw new ModuleDisabled(m.name);
      });
      continue;
    }
    if (m.routes) app.route(base, m.routes);
  }

  if (o.console) app.route('/ui', o.console);
  app.use('/api/*', (c) => {
    throw noRoute(c.req.method, c.req.path, `route ${c.req.method} ${c.req.path}`);
  });
  allowed = allowedMethodsOf(app.routes);

  // The probes skip the router and the shell altogether (probes.ts); app.request() in tests goes through here too.
  const durations = new DurationRecorder(o.metrics, o.log);
  const routed = app.fetch;
  app.fetch = (req, ...rest) => answerProbe(req, o.resources, durations) ?? routed(req, ...rest);
  return app;
}
