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
import { errorHandler } from './problem.ts';
import type { RateCounter } from './rate-limit.ts';
import type { leaseRoutes } from './lease-routes.ts';
import { queueRoutes } from './queue-routes.ts';
import { createRouter } from './router.ts';
import { answerProbe } from './probes.ts';
import { DurationRecorder } from './request-context.ts';
import { enteringHandler, shell } from './shell.ts';
import { RequestState } from './request-state.ts';
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
  // Request id, auth, rate limit, module scopes, body checks and timing run around the app's fetch (shell.ts), not as
  // a middleware; every handler registered from here on (sub-routers included: they share this router) first hands
  // the request's context to the shell's state.
  const router = app.router;
  const add = router.add.bind(router);
  router.add = (method, path, [handler, route]) => add(method, path, [enteringHandler(handler, route.path), route]);
  // The shell has the path already (parsed as Hono does, hono/utils/url); Hono asks for it again to route.
  // (`getPath` is read-only in Hono's types but a plain field its dispatch reads on every request.)
  const routing = app as unknown as { getPath: (req: Request, options?: { env?: unknown }) => string };
  const pathOf = routing.getPath;
  routing.getPath = (req, options) => (options?.env instanceof RequestState ? options.env.path : pathOf(req, options));

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
  // An API path no route answers is the notFound handler's 404 / 405 (above); not an `/api/*` catch-all, which would
  // match every API request beside its route and so put each one on Hono's multi-handler (compose) path.
  allowed = allowedMethodsOf(app.routes);

  // The probes skip the router and the shell altogether (probes.ts); app.request() in tests goes through here too.
  const durations = new DurationRecorder(o.metrics, o.log);
  const routed = app.fetch;
  const front = shell(
    {
      metrics: o.metrics,
      log: o.log,
      bodyLimitBytes: o.bodyLimitBytes,
      auth: o.auth,
      rateCounter: o.rateCounter,
      moduleNames: o.modules.filter((m) => m.enabled).map((m) => m.name),
    },
    (req, state) => routed(req, state),
  );
  app.fetch = (req, server) => answerProbe(req, o.resources, durations) ?? front(req, server);
  return app;
}
