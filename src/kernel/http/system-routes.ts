/** The kernel's own operations on the root app: the root, /api/v1, the OpenAPI document, /metrics and the probes. */
import { z } from '@hono/zod-openapi';
import type { KernelMetrics } from '../metrics.ts';
import type { Resources } from '../resources.ts';
import { requireAnyScope } from './auth.ts';
import { readiness } from './health-routes.ts';
import { BEARER_SCHEME, defineRoute } from './route.ts';
import type { ApiRouter } from './router.ts';

/** The tag of the kernel's own operations. */
export const SYSTEM_TAG = 'system';

/** What the system routes describe. */
export interface SystemInfo {
  version: string;
  resources: Resources;
  metrics: KernelMetrics;
  modules: { name: string; description: string; enabled: boolean }[];
  hasConsole: boolean;
}

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const readyBody = z.object({ status: z.enum(['ready', 'not ready']), ready: z.boolean(), dependencies: z.record(z.string(), z.unknown()) }).openapi('Readiness');

/** Kernel tags with one line each; module tags are added from the modules' descriptions. */
const KERNEL_TAGS = [
  { name: SYSTEM_TAG, description: 'Version, modules, this document, metrics and health probes' },
  { name: 'events', description: 'Publish events and stream them (SSE or WebSocket) by pattern' },
  { name: 'queues', description: 'Job queue depths, jobs and failed-job admin (admin scope)' },
  { name: 'leases', description: 'Named leases with fencing tokens held by this instance (admin scope)' },
];

const root = defineRoute({
  method: 'get',
  path: '/',
  operationId: 'getRoot',
  summary: 'Redirect to the console, or name the server',
  public: true,
  responses: { 200: json(z.object({ name: z.string(), version: z.string() }), 'name and version (no console mounted)'), 302: { description: 'to the console at /ui' } },
});
const about = defineRoute({
  method: 'get',
  path: '/api/v1',
  operationId: 'getApiInfo',
  summary: 'Server version, mode, instance and modules',
  middleware: [requireAnyScope()] as const,
  responses: {
    200: json(z.object({ name: z.string(), version: z.string(), mode: z.string(), instanceId: z.string(), modules: z.array(z.object({ name: z.string(), description: z.string(), enabled: z.boolean() })) }), 'about this server'),
  },
});
const document = defineRoute({
  method: 'get',
  path: '/api/v1/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'This OpenAPI 3.1 document',
  middleware: [requireAnyScope()] as const,
  responses: { 200: json(z.record(z.string(), z.unknown()), 'the OpenAPI document of every operation') },
});
const metricsRoute = defineRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics (scope metrics:read)',
  middleware: [requireAnyScope('metrics:read')] as const,
  responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
});
const healthz = defineRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  summary: 'Liveness: the process answers',
  public: true,
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'alive') },
});
const readyz = defineRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  summary: 'Readiness: every dependency answers',
  public: true,
  responses: { 200: json(readyBody, 'every dependency answers'), 503: json(readyBody, 'a dependency does not answer') },
});

/** Registers the kernel's operations and the bearer scheme on the root app. */
export function registerSystemRoutes(app: ApiRouter, o: SystemInfo): void {
  app.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from the server configuration (auth.tokens); its scopes decide what it may call.',
  });
  app.openapi(root, (c) => (o.hasConsole ? c.redirect('/ui', 302) : c.json({ name: 'capstan', version: o.version }, 200)));
  app.openapi(about, (c) =>
    c.json({ name: 'capstan', version: o.version, mode: o.resources.mode, instanceId: o.resources.instanceId, modules: o.modules.map((m) => ({ name: m.name, description: m.description, enabled: m.enabled })) }, 200),
  );
  app.openapi(document, (c) => {
    const tags = [...KERNEL_TAGS, ...o.modules.filter((m) => m.enabled).map((m) => ({ name: m.name, description: m.description }))];
    // The server is the one the client asked: behind a proxy this is the address the proxy was given.
    const url = new URL(c.req.url).origin;
    return c.json(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: { title: 'Capstan API', version: o.version, description: 'One control plane for workflows, live optimization, AI agents, failover meshes and LLM cascades.' },
        servers: [{ url, description: 'the server that answered this document' }],
        tags,
      }),
      200,
    );
  });
  app.openapi(metricsRoute, async (c) => c.text(await o.metrics.registry.metrics(), 200, { 'content-type': o.metrics.registry.contentType }));
  // The probes are answered before the router (probes.ts); these handlers document them and answer if ever reached.
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyz, async (c) => {
    const r = await readiness(o.resources);
    return c.json({ status: r.ready ? ('ready' as const) : ('not ready' as const), ...r }, r.ready ? 200 : 503);
  });
}
