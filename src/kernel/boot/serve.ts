/** `capstan serve`: open resources, migrate, prepare modules, serve HTTP and/or run workers, shut down gracefully. */
import { enabledMigrations } from './module-migrations.ts';
import { websocket } from 'hono/bun';
import { authEnabled } from '../config/load.ts';
import type { KernelConfig } from '../config/schema.ts';
import { createApp } from '../http/app.ts';
import { healthRoutes } from '../http/health-routes.ts';
import { errorHandler, problemResponse } from '../http/problem.ts';
import { Hono } from 'hono';
import { allowedMethodsOf } from '../http/allowed-methods.ts';
import type { AppEnv } from '../http/app-env.ts';
import { authenticate, hashToken, requireAnyScope, type TokenRecord } from '../http/auth.ts';
import { LoginLimiter } from '../http/login-limit.ts';
import { BatchedRedisRateCounter } from '../http/batched-rate-counter.ts';
import { MemoryRateCounter, type RateCounter } from '../http/rate-limit.ts';
import { createLogger, type Logger } from '../log.ts';
import { createMetrics, type KernelMetrics } from '../metrics.ts';
import { registerReadinessMetrics } from '../readiness-metrics.ts';
import type { Module } from '../module.ts';
import { consoleRoutes } from '../ui/console.tsx';
import { prepareModules } from './modules.ts';
import { leaseRoutes } from '../http/lease-routes.ts';
import { startDiagnosticsWorker } from '../diagnostics.ts';
import { startOutboxRelay } from '../outbox.ts';
import type { QueueWorker } from '../queue/port.ts';
import { openResources } from './resources.ts';
import type { Resources } from '../resources.ts';
import type { Redis } from 'ioredis';
import { createRedis } from '../queue/redis-connection.ts';
import { Counter } from 'prom-client';
import { sleep } from '../time.ts';
import { startTracing } from '../tracing/setup.ts';
import { fetchLimit, fetchLimitWarning } from '../calls/fetch-limit.ts';
import type { Clock } from '../clock/clock.ts';

/** A running server; `stop()` performs the same graceful shutdown as SIGTERM. */
export interface RunningServer {
  url?: string;
  stop(): Promise<void>;
}

/**
 * Bun's own cap on a request body, far above the app's limit: the app refuses an oversized body from its
 * Content-Length (or while streaming it) with a problem+json 413 before reading it, while Bun's cap answers a bare
 * 413; it stays only as a backstop against bodies far past any sane limit.
 */
function bunBodyCap(bodyLimitBytes: number): number {
  return Math.max(bodyLimitBytes * 2, 64 * 1024 * 1024);
}

/**
 * What a worker serves: the probes, so an orchestrator checks every role the same way, and /metrics (behind the same
 * token scope as on the api role), so Prometheus scrapes the instances that do the work.
 */
function probeApp(resources: Resources, metrics: KernelMetrics, log: Logger, auth: { enabled: boolean; tokens: TokenRecord[] }) {
  // Not the API (a worker serves no operations of its own): a plain Hono app, outside the OpenAPI document.
  const app = new Hono<AppEnv>();
  // Renders a refused token as the api role does (401/403 problem+json), not as a 500.
  app.onError(errorHandler(log));
  app.route('/', healthRoutes(resources));
  app.get('/metrics', authenticate(auth.enabled, auth.tokens), requireAnyScope('metrics:read'), async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': metrics.registry.contentType });
  });
  const allowed = allowedMethodsOf(app.routes);
  app.notFound((c) => {
    const allow = allowed(c.req.path);
    if (allow.length > 0) return problemResponse(c, 405, 'MethodNotAllowed', `${c.req.path} does not answer ${c.req.method}; it answers ${allow.join(', ')}`, { allow });
    return problemResponse(c, 404, 'NotFound', `a worker serves only /healthz, /readyz and /metrics (no route for ${c.req.method} ${c.req.path})`);
  });
  return app;
}

/** Starts everything the role needs and returns once it is serving. */
export async function startServer(cfg: KernelConfig, modules: readonly Module[], version: string, opts: { clock?: Clock } = {}): Promise<RunningServer> {
  const log = createLogger({ level: cfg.log.level });
  const metrics = createMetrics();
  const tracing = startTracing(cfg.tracing, { version });
  if (tracing.enabled) log.info({ endpoint: cfg.tracing.endpoint, sampleRatio: cfg.tracing.sampleRatio }, 'tracing on: spans go to the OTLP endpoint');
  const fetchWarning = fetchLimitWarning(Object.fromEntries(Object.entries(cfg.llm.providers).map(([name, p]) => [name, p.maxConcurrency])));
  if (fetchWarning) log.warn({ fetchLimit: fetchLimit() }, fetchWarning);
  let resources: Awaited<ReturnType<typeof openResources>>;
  try {
    resources = await openResources(cfg, log, metrics, opts);
  } catch (err) {
    await tracing.shutdown();
    throw err;
  }
  const role = cfg.server.role;
  let redis: Redis | undefined;
  let batchedCounter: BatchedRedisRateCounter | undefined;
  try {
    const applied = await resources.db.migrate(enabledMigrations(modules, cfg));
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
    const host = prepareModules(modules, cfg, resources, role);
    registerReadinessMetrics(resources, metrics.registry);
    let server: ReturnType<typeof Bun.serve> | undefined;
    const leaseApi = leaseRoutes(resources.leases, cfg.leases.defaultTtlMs);
    let diagnostics: QueueWorker | undefined;
    let relay: ReturnType<typeof startOutboxRelay> | undefined;
    if (role !== 'worker') {
      let counter: RateCounter = new MemoryRateCounter();
      if (resources.mode === 'distributed') {
        redis = createRedis({ url: cfg.redis.url!, sentinel: cfg.redis.sentinel }, { maxRetriesPerRequest: 2, lazyConnect: false });
        redis.on('error', () => {});
        // Per-request hits are counted locally and added in Redis every 100 ms (batched-rate-counter.ts).
        counter = batchedCounter = new BatchedRedisRateCounter(redis, cfg.prefix);
      }
      const auth = authEnabled(cfg);
      const loginRefused = new Counter({ name: 'console_login_refused_total', help: 'Console sign-ins refused because the address failed too often', registers: [metrics.registry] });
      const app = createApp({
        version,
        resources,
        metrics,
        log,
        auth: { enabled: auth, tokens: cfg.auth.tokens, rateLimitPerMinute: cfg.auth.rateLimitPerMinute },
        rateCounter: counter,
        bodyLimitBytes: cfg.server.bodyLimitBytes,
        eventStream: cfg.server.eventStream,
        modules: host.mounted,
        leaseRoutes: leaseApi,
        console: consoleRoutes({
          version,
          resources,
          modules: host.mounted,
          checkToken: (t) => cfg.auth.tokens.some((x) => x.sha256 === hashToken(t)),
          loginLimiter: new LoginLimiter(counter, cfg.auth.login, (address, retryAfterSeconds) => {
            loginRefused.inc();
            log.warn({ address, retryAfterSeconds }, 'console sign-in refused: too many failed attempts from this address');
          }),
        }),
      });
      server = Bun.serve({ port: cfg.server.port, hostname: cfg.server.host, fetch: app.fetch, websocket, maxRequestBodySize: bunBodyCap(cfg.server.bodyLimitBytes) });
      if (!auth) log.warn({ host: cfg.server.host }, 'auth is OFF: the API is open to anyone who can reach this loopback address; configure auth.tokens to turn it on');
    } else {
      server = Bun.serve({ port: cfg.server.port, hostname: cfg.server.host, fetch: probeApp(resources, metrics, log, { enabled: authEnabled(cfg), tokens: cfg.auth.tokens }).fetch });
    }
    await host.start();
    if (role !== 'api') {
      diagnostics = await startDiagnosticsWorker(resources.queue, resources.bus, resources.instanceId);
      relay = startOutboxRelay({ db: resources.db, bus: resources.bus, roles: resources.roles, log, registry: metrics.registry, source: resources.instanceId, leaseTtlMs: cfg.leases.defaultTtlMs });
    }
    const url = server ? `http://${cfg.server.host}:${server.port}` : undefined;
    log.info({ mode: resources.mode, role, url, instanceId: resources.instanceId, modules: host.mounted.filter((m) => m.enabled).map((m) => m.name), version }, 'capstan started');

    let stopping: Promise<void> | undefined;
    return {
      url,
      stop() {
        stopping ??= (async () => {
          log.info('shutting down: no new requests; finishing in-flight work');
          // stop(false) stops accepting and resolves once in-flight requests are done; open event
          // streams never finish by themselves, so after half the bound they are closed.
          if (server) {
            const drained = server.stop(false).then(() => true);
            const inTime = await Promise.race([drained, sleep(cfg.server.shutdownTimeoutMs / 2).then(() => false)]);
            if (!inTime) {
              log.warn('closing requests still open after the drain period (event streams, slow clients)');
              await server.stop(true);
            }
          }
          await leaseApi.releaseAll();
          await diagnostics?.close();
          await relay?.stop();
          await host.stop();
          await batchedCounter?.close();
          await redis?.quit().catch(() => {});
          await resources.close();
          // Spans of the last requests and jobs are sent before the process exits.
          await tracing.shutdown();
          log.info('shutdown complete');
          log.flush?.();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await redis?.quit().catch(() => {});
    await resources.close();
    await tracing.shutdown();
    throw err;
  }
}
