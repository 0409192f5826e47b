/** /api/v1/workflow: definitions, triggers, runs (list, show, history, await), run controls and callbacks. */
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, Invalid, type AppEnv } from '../../kernel/index.ts';
import type { Context } from 'hono';
import { parseDuration } from './definition/index.ts';
import { RUN_STATES } from './run-state.ts';
import type { WorkflowService } from './service.ts';

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ and -');
const runId = z.string().min(1).max(100);
const status = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lower-case status name');
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const anyJson = z.unknown();
const runSchema = z
  .object({ runId: z.string(), workflow: z.string(), foreignId: z.string(), runState: z.string(), status: z.string(), object: z.unknown(), version: z.number() })
  .passthrough()
  .openapi('WorkflowRun');
const triggerBody = z.strictObject({ foreignId: z.string().min(1).max(200), object: z.unknown().optional(), start: status.optional() }).openapi('TriggerRun');
const callbackBody = z.strictObject({ status: status, object: z.unknown().optional() }).openapi('Callback');
const controlBody = z.strictObject({ reason: z.string().max(500).optional() });
const listQuery = z.strictObject({
  workflow: name.optional(),
  foreignId: z.string().max(200).optional(),
  status: status.optional(),
  runState: z.enum(RUN_STATES).optional(),
  createdAfter: z.coerce.date().optional(),
  createdBefore: z.coerce.date().optional(),
  order: z.enum(['asc', 'desc']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().max(500).optional(),
});

/** The module's HTTP routes. */
export function workflowRoutes(svc: WorkflowService, ready: Promise<void>) {
  const app = createRouter();
  // Definitions load asynchronously at start; requests wait for them rather than see an empty engine.
  app.use('*', async (_c, next) => {
    await ready;
    await next();
  });

  // Definitions arrive as YAML or JSON text, so the body is read raw rather than through a zod body schema.
  app.post('/definitions', async (c: Context<AppEnv>) => {
    const type = c.req.header('content-type') ?? '';
    const text = await c.req.text();
    if (!text.trim()) throw new Invalid('empty definition', [{ path: 'body', message: 'a YAML or JSON definition is required' }]);
    const saved = await svc.applyDefinition(text, type.includes('json') ? 'json' : 'yaml');
    return c.json(saved, 201);
  });
  app.get('/definitions', async (c) => c.json({ definitions: await svc.listDefinitions() }));
  app.openapi(createRoute({ method: 'get', path: '/definitions/{name}', request: { params: z.object({ name }) }, responses: { 200: json(anyJson, 'the definition with its graph as Mermaid') } }), async (c) =>
    c.json(await svc.getDefinition(c.req.valid('param').name), 200),
  );

  app.openapi(
    createRoute({ method: 'post', path: '/workflows/{name}/runs', request: { params: z.object({ name }), body: { content: { 'application/json': { schema: triggerBody } }, required: true } }, responses: { 201: json(z.object({ runId: z.string() }), 'run created') } }),
    async (c) => {
      const b = c.req.valid('json');
      const run = await svc.trigger(c.req.valid('param').name, b.foreignId, b.object, b.start);
      return c.json({ runId: run.runId, status: run.status, runState: run.runState }, 201);
    },
  );

  app.openapi(createRoute({ method: 'get', path: '/runs', request: { query: listQuery }, responses: { 200: json(z.object({ runs: z.array(runSchema), nextCursor: z.string().nullable() }), 'a page of runs') } }), async (c) =>
    c.json(await svc.listRuns(c.req.valid('query')), 200),
  );
  app.openapi(createRoute({ method: 'get', path: '/runs/{runId}', request: { params: z.object({ runId }) }, responses: { 200: json(runSchema, 'the run') } }), async (c) => c.json(await svc.getRun(c.req.valid('param').runId), 200));
  app.openapi(createRoute({ method: 'get', path: '/runs/{runId}/history', request: { params: z.object({ runId }) }, responses: { 200: json(anyJson, 'every transition, oldest first') } }), async (c) =>
    c.json({ history: await svc.history(c.req.valid('param').runId) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{runId}/await',
      request: { params: z.object({ runId }), query: z.strictObject({ status, timeout: z.string().default('30s') }) },
      responses: { 200: json(runSchema, 'the run once it has been at the status'), 408: json(anyJson, 'not reached within the timeout') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const timeoutMs = Math.min(parseDuration(q.timeout, 'query.timeout'), 300_000);
      const run = await svc.await(c.req.valid('param').runId, q.status, timeoutMs);
      if (!run) return c.json({ type: 'urn:capstan:problem:Timeout', title: 'Request Timeout', status: 408, code: 'Timeout', detail: `run did not reach '${q.status}' within ${q.timeout}` }, 408, { 'content-type': 'application/problem+json' });
      return c.json(run, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{runId}/{action}',
      request: { params: z.object({ runId, action: z.enum(['pause', 'resume', 'cancel', 'delete']) }), body: { content: { 'application/json': { schema: controlBody } }, required: false } },
      responses: { 200: json(runSchema, 'the run after the change') },
    }),
    async (c) => {
      const { runId: id, action } = c.req.valid('param');
      const reason = c.req.header('content-type')?.includes('json') ? c.req.valid('json').reason : undefined;
      return c.json(await svc.control(id, action, reason), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{runId}/callback/{status}',
      request: { params: z.object({ runId, status }), body: { content: { 'application/json': { schema: callbackBody } }, required: true } },
      responses: { 200: json(runSchema, 'the run after the callback') },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await svc.callback(p.runId, p.status, c.req.valid('json')), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/connectors/{name}/{connector}',
      request: { params: z.object({ name, connector: name }), body: { content: { 'application/json': { schema: anyJson } }, required: true } },
      responses: { 202: json(z.object({ result: z.enum(['done', 'skipped']) }), 'what the connector did') },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json({ result: await svc.webhook(p.name, p.connector, c.req.valid('json')) }, 202);
    },
  );
  return app;
}
