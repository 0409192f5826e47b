/**
 * The OpenAPI document of a set of modules without a running server: the app is built in-process over memory
 * adapters and asked for /api/v1/openapi.json, so the linter and client generators see exactly what a server serves.
 */
import { resolve } from 'node:path';
import { MemoryBus } from '../bus/memory-bus.ts';
import { loadConfig } from '../config/load.ts';
import type { Database } from '../db/port.ts';
import { KvLeases } from '../kv/leases.ts';
import { MemoryKvStore } from '../kv/memory-kv.ts';
import { createLlmClient } from '../llm/client/llm-client.ts';
import { llmConfigSchema } from '../llm/config/schema.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import type { Module } from '../module.ts';
import { MemoryQueue } from '../queue/memory-queue.ts';
import type { Resources } from '../resources.ts';
import { createRoles } from '../roles/roles.ts';
import { realClock } from '../clock/clock.ts';
import { prepareModules } from '../boot/modules.ts';
import { createApp } from './app.ts';
import { leaseRoutes } from './lease-routes.ts';
import { MemoryRateCounter } from './rate-limit.ts';

/** A database that never answers: building routes needs none, and this app serves no request that would use it. */
function offlineDatabase(): Database {
  // Never settles rather than rejects: a module that loads data at start (workflow definitions) just waits.
  const refuse = () => new Promise<never>(() => {});
  const db = new Proxy({}, { get: () => refuse }) as Database['db'];
  return { kind: 'pglite', db, readDb: db, query: refuse, listen: refuse, transaction: refuse, migrate: refuse, ping: refuse, close: async () => {} };
}

/** The app of `modules` (all enabled) over memory adapters, to read its routes and document; close() when done. */
export function documentApp(modules: readonly Module[], version: string): { app: ReturnType<typeof createApp>; close(): Promise<void> } {
  const metrics = createMetrics();
  const log = createLogger({ level: 'silent' });
  const kv = new MemoryKvStore();
  const leases = new KvLeases(kv, 'openapi');
  const bus = new MemoryBus({ source: 'openapi' });
  const queue = new MemoryQueue({});
  const roles = createRoles({ leases, kv, owner: 'openapi', registry: metrics.registry, log });
  const resources: Resources = {
    mode: 'embedded',
    // Nothing is written: the document only needs the routes, which modules build without touching the folder.
    dataDir: resolve('.capstan/data'),
    instanceId: 'openapi',
    db: offlineDatabase(),
    bus,
    queue,
    kv,
    leases,
    roles,
    metrics: metrics.registry,
    log,
    llm: createLlmClient({ config: llmConfigSchema.parse(undefined), registry: metrics.registry, log }),
    clock: realClock,
  };
  const enableAll = Object.fromEntries(modules.map((m) => [m.name, { enabled: true }]));
  const cfg = loadConfig(modules, { env: {}, flags: { modules: enableAll } });
  const host = prepareModules(modules, cfg, resources, 'api');
  const app = createApp({
      version,
      resources,
      metrics,
      log,
      auth: { enabled: false, tokens: [], rateLimitPerMinute: 1_000_000 },
      rateCounter: new MemoryRateCounter(),
      bodyLimitBytes: 1_048_576,
      modules: host.mounted,
      leaseRoutes: leaseRoutes(leases, 10_000),
  });
  return {
    app,
    async close() {
      await roles.close();
      await bus.close();
      await queue.close();
      await kv.close();
    },
  };
}

/** Fetches the OpenAPI document an app serves, as a client at `origin` would see it. */
export async function fetchDocument(app: { request(url: string): Response | Promise<Response> }, origin = 'http://127.0.0.1:7070'): Promise<OpenApiDocument> {
  const res = await app.request(`${origin}/api/v1/openapi.json`);
  if (res.status !== 200) throw new Error(`the document answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as OpenApiDocument;
}

/** Renders the OpenAPI document of `modules` (all enabled) without a server. */
export async function apiDocument(modules: readonly Module[], version: string): Promise<OpenApiDocument> {
  const built = documentApp(modules, version);
  try {
    return await fetchDocument(built.app);
  } finally {
    await built.close();
  }
}

/** The parts of an OpenAPI document these checks read. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * Routes an app answers that its document does not list (`GET /api/v1/x/{id}`): a route registered around
 * defineRoute. Middleware (method ALL) and the console's HTML pages under /ui are not operations.
 */
export function undocumentedRoutes(routes: readonly { method: string; path: string }[], doc: OpenApiDocument): string[] {
  const missing = new Set<string>();
  for (const r of routes) {
    if (r.method === 'ALL' || r.path === '/ui' || r.path.startsWith('/ui/')) continue;
    const path = r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
    if (!doc.paths[path]?.[r.method.toLowerCase()]) missing.add(`${r.method} ${path}`);
  }
  return [...missing];
}
