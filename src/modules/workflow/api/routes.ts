/** /api/v1/workflow: definitions, triggers, runs (list, show, history, await), run controls and callbacks. */
import { CapstanError, createRouter, defineRoute, holdConnection, Invalid, isoDate, pageLimitParam, parseDuration, storableJson, storableText, zodIssues, type AppEnv } from '../../../kernel/index.ts';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { RUN_STATES } from '../model/run-state.ts';
import type { WorkflowService } from '../service.ts';


const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ and -');
const runId = storableText(z.string().min(1).max(100));
const status = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lower-case status name');
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const anyJson = z.unknown();
const runSchema = z
  .object({ runId: z.string(), workflow: z.string(), foreignId: z.string(), runState: z.string(), status: z.string(), object: z.unknown(), version: z.number() })
  .passthrough()
  .openapi('WorkflowRun');
const triggerBody = z.strictObject({ foreignId: storableText(z.string().min(1).max(200)), object: storableJson.optional(), start: status.optional() }).openapi('TriggerRun');
const callbackBody = z.strictObject({ status: status, object: storableJson.optional() }).openapi('Callback');
const controlBody = z.strictObject({ reason: storableText(z.string().max(500)).optional() });
const listQuery = z.strictObject({
  workflow: name.optional(),
  foreignId: storableText(z.string().max(200)).optional(),
  status: status.optional(),
  runState: z.enum(RUN_STATES).optional(),
  createdAfter: isoDate.optional(),
  createdBefore: isoDate.optional(),
  order: z.enum(['asc', 'desc']).optional(),
  limit: pageLimitParam.optional(),
  cursor: storableText(z.string().max(500)).optional(),
});
/** The longest await the server holds a request for. */
const MAX_AWAIT_MS = 300_000;

/**
 * How to read a definition from its content type. YAML and JSON types, text/plain, none at all and curl's default
 * form type (`curl --data-binary @order.yaml`) are text; anything else (an image, a multipart upload) is refused
 * rather than parsed as YAML into a confusing error.
 */
function definitionFormat(contentType: string | undefined): 'yaml' | 'json' {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (/^application\/([\w.-]+\+)?json$/.test(media)) return 'json';
  if (media === '' || media === 'text/plain' || media === 'application/x-www-form-urlencoded' || /^(application|text)\/(x-)?yaml$/.test(media)) return 'yaml';
  throw new CapstanError('UnsupportedMediaType', 415, `a definition is sent as application/yaml or application/json, not ${media}`, {
    errors: [{ path: 'header.content-type', message: 'application/yaml or application/json' }],
  });
}

/** The optional JSON body of a run control: empty (whatever the content type) means none. */
async function controlInput(c: Context<AppEnv>): Promise<{ reason?: string }> {
  const raw = await c.req.text();
  if (!raw.trim()) return {};
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new CapstanError('UnsupportedMediaType', 415, 'send the body as application/json', { errors: [{ path: 'header.content-type', message: 'must be application/json' }] });
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new Invalid('the body is not valid JSON', [{ path: 'body', message: (err as Error).message }]);
  }
  const parsed = controlBody.safeParse(value);
  if (!parsed.success) throw new Invalid('invalid request body', zodIssues(parsed.error, 'body'));
  return parsed.data;
}

/** The module's HTTP routes. */
export function workflowRoutes(svc: WorkflowService, ready: Promise<void>) {
  const app = createRouter('workflow');
  // Definitions load asynchronously at start; requests wait for them rather than see an empty engine.
  app.use('*', async (_c, next) => {
    await ready;
    await next();
  });

  // Definitions arrive as YAML or JSON text, so the body is read raw rather than through a zod body schema.
  // The body is documented with plain JSON schemas, so the router does not parse it: YAML text is read raw below.
  app.openapi(
    defineRoute({
      method: 'post',
      path: '/definitions',
      operationId: 'applyWorkflowDefinition',
      summary: 'Create or update a workflow definition from YAML or JSON',
      description: 'Refused with 409 when the new version would strand runs waiting at a status it drops, unless force=true.',
      errors: [409],
      request: {
        query: z.object({ force: z.string().optional().openapi({ description: 'true: apply even over waiting runs', enum: ['true', 'false'] }) }),
        body: { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } },
      },
      responses: { 201: json(anyJson, 'the saved definition and its version') },
    }),
    async (c: Context<AppEnv>) => {
      const format = definitionFormat(c.req.header('content-type'));
      const body = await c.req.text();
      if (!body.trim()) throw new Invalid('empty definition', [{ path: 'body', message: 'a YAML or JSON definition is required' }]);
      const force = c.req.query('force');
      if (force !== undefined && force !== 'true' && force !== 'false') throw new Invalid('invalid force', [{ path: 'query.force', message: 'true or false' }]);
      const saved = await svc.applyDefinition(body, format, { force: force === 'true' });
      return c.json(saved, 201);
    },
  );
  app.openapi(
    defineRoute({ method: 'get', path: '/definitions', operationId: 'listWorkflowDefinitions', summary: 'Every workflow definition, latest versions', responses: { 200: json(z.object({ definitions: z.array(anyJson) }), 'the definitions') } }),
    async (c) => c.json({ definitions: await svc.listDefinitions() }, 200),
  );
  app.openapi(
    defineRoute({ method: 'get', path: '/definitions/{name}', operationId: 'getWorkflowDefinition', summary: 'One definition with its graph as Mermaid', errors: [404], request: { params: z.object({ name }) }, responses: { 200: json(anyJson, 'the definition with its graph as Mermaid') } }),
    async (c) => c.json(await svc.getDefinition(c.req.valid('param').name), 200),
  );

  app.openapi(
    defineRoute({ method: 'post', path: '/workflows/{name}/runs', operationId: 'triggerWorkflowRun', summary: 'Start a run of a workflow', errors: [404, 409], request: { params: z.object({ name }), body: { content: { 'application/json': { schema: triggerBody } }, required: true } }, responses: { 201: json(z.object({ runId: z.string() }), 'run created') } }),
    async (c) => {
      const b = c.req.valid('json');
      const run = await svc.trigger(c.req.valid('param').name, b.foreignId, b.object, b.start);
      return c.json({ runId: run.runId, status: run.status, runState: run.runState }, 201);
    },
  );

  app.openapi(
    defineRoute({ method: 'get', path: '/runs', operationId: 'listWorkflowRuns', summary: 'A page of runs, filtered and ordered', request: { query: listQuery }, responses: { 200: json(z.object({ runs: z.array(runSchema), nextCursor: z.string().nullable() }), 'a page of runs') } }),
    async (c) => c.json(await svc.listRuns(c.req.valid('query')), 200),
  );
  app.openapi(
    defineRoute({ method: 'get', path: '/runs/{runId}', operationId: 'getWorkflowRun', summary: 'One run', errors: [404], request: { params: z.object({ runId }) }, responses: { 200: json(runSchema, 'the run') } }),
    async (c) => c.json(await svc.getRun(c.req.valid('param').runId), 200),
  );
  app.openapi(
    defineRoute({ method: 'get', path: '/runs/{runId}/history', operationId: 'getWorkflowRunHistory', summary: "Every transition of a run, oldest first", errors: [404], request: { params: z.object({ runId }) }, responses: { 200: json(anyJson, 'every transition, oldest first') } }),
    async (c) => c.json({ history: await svc.history(c.req.valid('param').runId) }, 200),
  );
  app.openapi(
    defineRoute({
      method: 'get',
      path: '/runs/{runId}/await',
      operationId: 'awaitWorkflowRun',
      summary: 'Wait until a run has been at a status (at most 5 minutes)',
      errors: [404, 408],
      request: { params: z.object({ runId }), query: z.strictObject({ status, timeout: z.string().default('30s') }) },
      responses: { 200: json(runSchema, 'the run once it has been at the status') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const timeoutMs = parseDuration(q.timeout, 'query.timeout');
      if (timeoutMs > MAX_AWAIT_MS) throw new Invalid(`query.timeout: at most 5m; call await again to wait longer`, [{ path: 'query.timeout', message: `'${q.timeout}' is longer than 5m, the longest the server holds a request` }]);
      // The wait below is bounded by timeoutMs; the server's idle timeout would cut any wait longer than 10 s.
      holdConnection(c);
      const run = await svc.await(c.req.valid('param').runId, q.status, timeoutMs);
      if (!run) throw new CapstanError('Timeout', 408, `run did not reach '${q.status}' within ${q.timeout}`);
      return c.json(run, 200);
    },
  );
  app.openapi(
    defineRoute({
      method: 'post',
      path: '/runs/{runId}/{action}',
      operationId: 'controlWorkflowRun',
      summary: 'Pause, resume, cancel or delete a run',
      errors: [404, 409],
      // The body is documented, not validated by the router: an empty body sent as application/json (what many
      // clients send for a bodiless POST) must mean "no reason", which the router's JSON parser refuses.
      request: {
        params: z.object({ runId, action: z.enum(['pause', 'resume', 'cancel', 'delete']) }),
        body: { content: { 'application/json': { schema: { type: 'object', properties: { reason: { type: 'string', maxLength: 500 } }, additionalProperties: false } } }, required: false },
      },
      responses: { 200: json(runSchema, 'the run after the change') },
    }),
    async (c) => {
      const { runId: id, action } = c.req.valid('param');
      const { reason } = await controlInput(c);
      return c.json(await svc.control(id, action, reason), 200);
    },
  );
  app.openapi(
    defineRoute({
      method: 'post',
      path: '/runs/{runId}/callback/{status}',
      operationId: 'callbackWorkflowRun',
      summary: 'Move a run waiting on a callback to a status',
      errors: [404, 409],
      request: { params: z.object({ runId, status }), body: { content: { 'application/json': { schema: callbackBody } }, required: true } },
      responses: { 200: json(runSchema, 'the run after the callback') },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await svc.callback(p.runId, p.status, c.req.valid('json')), 200);
    },
  );
  app.openapi(
    defineRoute({
      method: 'post',
      path: '/connectors/{name}/{connector}',
      operationId: 'receiveWorkflowConnector',
      summary: "Deliver a webhook to a workflow's connector",
      errors: [404],
      request: { params: z.object({ name, connector: name }), body: { content: { 'application/json': { schema: storableJson } }, required: true } },
      responses: { 202: json(z.object({ result: z.enum(['done', 'skipped']) }), 'what the connector did') },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json({ result: await svc.webhook(p.name, p.connector, c.req.valid('json')) }, 202);
    },
  );
  return app;
}
