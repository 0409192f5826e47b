/** `capstan serve`: open resources, migrate, prepare modules, serve HTTP and/or run workers, shut down gracefully. */
import { websocket } from 'hono/bun';
import { authEnabled } from '../config/load.ts';
import type { KernelConfig } from '../config/schema.ts';
import { createApp } from '../http/app.ts';
import { healthRoutes } from '../http/health-routes.ts';
import { problemResponse } from '../http/problem.ts';
import { createRouter } from '../http/router.ts';
import { hashToken } from '../http/auth.ts';
import { LoginLimiter } from '../http/login-limit.ts';
import { MemoryRateCounter, RedisRateCounter, type RateCounter } from '../http/rate-limit.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import type { Module } from '../module.ts';
import { consoleRoutes } from '../ui/console.tsx';
import { prepareModules } from './modules.ts';
import { leaseRoutes } from '../http/lease-routes.ts';
import { startDiagnosticsWorker } from '../diagnostics.ts';
import { startOutboxRelay } from '../outbox.ts';
import type { QueueWorker } from '../queue/port.ts';
import { openResources } from './resources.ts';
import type { Resources } from '../resources.ts';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { sleep } from '../time.ts';

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

/** What a worker serves: the probes only, so an orchestrator checks every role the same way. */
function probeApp(resources: Resources) {
  const app = createRouter();
  app.route('/', healthRoutes(resources));
  app.notFound((c) => problemResponse(c, 404, 'NotFound', `a worker serves only /healthz and /readyz (no route for ${c.req.method} ${c.req.path})`));
  return app;
}

/** Starts everything the role needs and returns once it is serving. */
export async function startServer(cfg: KernelConfig, modules: readonly Module[], version: string): Promise<RunningServer> {
  const log = createLogger({ level: cfg.log.level });
  const metrics = createMetrics();
  const resources = await openResources(cfg, log, metrics);
  const role = cfg.server.role;
  let redis: Redis | undefined;
  try {
    const applied = await resources.db.migrate();
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
    const host = prepareModules(modules, cfg, resources, role);
    let server: ReturnType<typeof Bun.serve> | undefined;
    const leaseApi = leaseRoutes(resources.leases, cfg.leases.defaultTtlMs);
    let diagnostics: QueueWorker | undefined;
    let relay: ReturnType<typeof startOutboxRelay> | undefined;
    if (role !== 'worker') {
      let counter: RateCounter = new MemoryRateCounter();
      if (resources.mode === 'distributed') {
        redis = new Redis(cfg.redis.url!, { maxRetriesPerRequest: 2, lazyConnect: false });
        redis.on('error', () => {});
        counter = new RedisRateCounter(redis, cfg.prefix);
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
      server = Bun.serve({ port: cfg.server.port, hostname: cfg.server.host, fetch: probeApp(resources).fetch });
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
          await redis?.quit().catch(() => {});
          await resources.close();
          log.info('shutdown complete');
          log.flush?.();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await redis?.quit().catch(() => {});
    await resources.close();
    throw err;
  }
}
