/** /api/v1/workflow: definitions, triggers, runs (list, show, history, await), run controls and callbacks. */
import { CapstanError, createRouter, holdConnection, Invalid, parseDuration, zodIssues, type AppEnv } from '../../../kernel/index.ts';
import type { Context } from 'hono';
import type { WorkflowService } from '../service.ts';
import { controlBody, ops } from './operations.ts';

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
    ops.applyWorkflowDefinition,
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
    ops.listWorkflowDefinitions,
    async (c) => c.json({ definitions: await svc.listDefinitions() }, 200),
  );
  app.openapi(
    ops.getWorkflowDefinition,
    async (c) => c.json(await svc.getDefinition(c.req.valid('param').name), 200),
  );

  app.openapi(
    ops.triggerWorkflowRun,
    async (c) => {
      const b = c.req.valid('json');
      const name = c.req.valid('param').name;
      const key = c.req.valid('header')['idempotency-key'];
      if (key === undefined) {
        const run = await svc.trigger(name, b.foreignId, b.object, b.start);
        return c.json({ runId: run.runId, status: run.status, runState: run.runState }, 201);
      }
      const { answer, replayed } = await svc.triggerWithKey(name, b, key);
      if (replayed) c.header('Idempotent-Replayed', 'true');
      return c.json(answer, 201);
    },
  );

  app.openapi(
    ops.listWorkflowRuns,
    async (c) => c.json(await svc.listRuns(c.req.valid('query')), 200),
  );
  app.openapi(
    ops.getWorkflowRun,
    async (c) => c.json(await svc.getRun(c.req.valid('param').runId), 200),
  );
  app.openapi(
    ops.getWorkflowRunHistory,
    async (c) => c.json({ history: await svc.history(c.req.valid('param').runId) }, 200),
  );
  app.openapi(
    ops.awaitWorkflowRun,
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
    ops.controlWorkflowRun,
    async (c) => {
      const { runId: id, action } = c.req.valid('param');
      const { reason } = await controlInput(c);
      return c.json(await svc.control(id, action, reason), 200);
    },
  );
  app.openapi(
    ops.callbackWorkflowRun,
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await svc.callback(p.runId, p.status, c.req.valid('json')), 200);
    },
  );
  app.openapi(
    ops.receiveWorkflowConnector,
    async (c) => {
      const p = c.req.valid('param');
      return c.json({ result: await svc.webhook(p.name, p.connector, c.req.valid('json')) }, 202);
    },
  );
  return app;
}
