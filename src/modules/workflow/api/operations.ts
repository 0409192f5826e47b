/**
 * The workflow API's operations, declared once: the router registers them (routes.ts), the OpenAPI document is made
 * from them, and the CLI calls them typed (cli.ts), so the three cannot disagree.
 */
import { defineRoute, isoDate, pageLimitParam, storableJson, storableText } from '../../../kernel/index.ts';
import { z } from '@hono/zod-openapi';
import { RUN_STATES } from '../model/run-state.ts';

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ and -');
const runId = storableText(z.string().min(1).max(100));
const status = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lower-case status name');
// Generic, so each response keeps its schema's type for the typed client.
const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });
const runSchema = z
  .object({
    runId: z.string(),
    workflow: z.string(),
    foreignId: z.string(),
    runState: z.string(),
    status: z.string(),
    object: z.unknown(),
    version: z.number(),
  })
  .passthrough()
  .openapi('WorkflowRun');
// Visible ASCII, as the IETF Idempotency-Key draft and the payment APIs that use it allow; a UUID fits easily.
const triggerHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, '1 to 255 visible ASCII characters')
    .optional()
    .openapi({ description: 'Makes the start safe to retry: a repeat with the same key and body answers the first run (kept 24 h)', example: '6f1c2b8e-3d4a-4c1e-9a57-0b6e2f9d1c34' }),
});
const triggerBody = z
  .strictObject({ foreignId: storableText(z.string().min(1).max(200)), object: storableJson.optional(), start: status.optional() })
  .openapi('TriggerRun');
const callbackBody = z.strictObject({ status: status, object: storableJson.optional() }).openapi('Callback');
/** The optional body of pause, resume, cancel and delete (read by hand in routes.ts: an empty body means none). */
export const controlBody = z.strictObject({ reason: storableText(z.string().max(500)).optional() });
const definitionSaved = z
  .object({ name: z.string(), kind: z.string(), version: z.number(), mermaid: z.string() })
  .passthrough()
  .openapi('WorkflowDefinitionSaved');
const definitionSummary = z.object({ name: z.string(), kind: z.string(), version: z.number(), createdAt: z.string(), updatedAt: z.string() }).passthrough();
const definitionSchema = z
  .object({ name: z.string(), kind: z.string(), version: z.number(), spec: z.unknown(), mermaid: z.string() })
  .passthrough()
  .openapi('WorkflowDefinition');
const runStarted = z.object({ runId: z.string(), status: z.string(), runState: z.string() }).passthrough();
const historyEntry = z
  .object({ version: z.number(), status: z.string(), runState: z.string(), reason: z.string().nullable(), object: z.unknown(), createdAt: z.string() })
  .passthrough()
  .openapi('WorkflowTransition');
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

/** Every operation of /api/v1/workflow, by operationId. */
export const ops = {
  applyWorkflowDefinition: defineRoute({
    method: 'post',
    path: '/definitions',
    operationId: 'applyWorkflowDefinition',
    summary: 'Create or update a workflow definition from YAML or JSON',
    description: 'Refused with 409 when the new version would strand runs waiting at a status it drops, unless force=true.',
    errors: [409],
    request: {
      query: z.object({
        force: z
          .string()
          .optional()
          .openapi({ description: 'true: apply even over waiting runs', enum: ['true', 'false'] }),
      }),
      body: { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } },
    },
    responses: { 201: json(definitionSaved, 'the saved definition and its version') },
  }),
  listWorkflowDefinitions: defineRoute({
    method: 'get',
    path: '/definitions',
    operationId: 'listWorkflowDefinitions',
    summary: 'Every workflow definition, latest versions',
    responses: { 200: json(z.object({ definitions: z.array(definitionSummary) }), 'the definitions') },
  }),
  getWorkflowDefinition: defineRoute({
    method: 'get',
    path: '/definitions/{name}',
    operationId: 'getWorkflowDefinition',
    summary: 'One definition with its graph as Mermaid',
    errors: [404],
    request: { params: z.object({ name }) },
    responses: { 200: json(definitionSchema, 'the definition with its graph as Mermaid') },
  }),
  triggerWorkflowRun: defineRoute({
    method: 'post',
    path: '/workflows/{name}/runs',
    operationId: 'triggerWorkflowRun',
    summary: 'Start a run of a workflow',
    description:
      'With an Idempotency-Key header, a repeat of the request (same key, same body) within 24 hours answers the run the first one started, with the same status code, instead of starting another (Idempotent-Replayed: true). The same key with another body is a 422. A request that failed stores no key.',
    errors: [404, 409, 422],
    request: { params: z.object({ name }), headers: triggerHeaders, body: { content: { 'application/json': { schema: triggerBody } }, required: true } },
    responses: { 201: json(runStarted, 'run created (or, for a repeated Idempotency-Key, the run the first request created)') },
  }),
  listWorkflowRuns: defineRoute({
    method: 'get',
    path: '/runs',
    operationId: 'listWorkflowRuns',
    summary: 'A page of runs, filtered and ordered',
    request: { query: listQuery },
    responses: { 200: json(z.object({ runs: z.array(runSchema), nextCursor: z.string().nullable() }), 'a page of runs') },
  }),
  getWorkflowRun: defineRoute({
    method: 'get',
    path: '/runs/{runId}',
    operationId: 'getWorkflowRun',
    summary: 'One run',
    errors: [404],
    request: { params: z.object({ runId }) },
    responses: { 200: json(runSchema, 'the run') },
  }),
  getWorkflowRunHistory: defineRoute({
    method: 'get',
    path: '/runs/{runId}/history',
    operationId: 'getWorkflowRunHistory',
    summary: 'Every transition of a run, oldest first',
    errors: [404],
    request: { params: z.object({ runId }) },
    responses: { 200: json(z.object({ history: z.array(historyEntry) }), 'every transition, oldest first') },
  }),
  awaitWorkflowRun: defineRoute({
    method: 'get',
    path: '/runs/{runId}/await',
    operationId: 'awaitWorkflowRun',
    summary: 'Wait until a run has been at a status (at most 5 minutes)',
    errors: [404, 408],
    request: { params: z.object({ runId }), query: z.strictObject({ status, timeout: z.string().default('30s') }) },
    responses: { 200: json(runSchema, 'the run once it has been at the status') },
  }),
  controlWorkflowRun: defineRoute({
    method: 'post',
    path: '/runs/{runId}/{action}',
    operationId: 'controlWorkflowRun',
    summary: 'Pause, resume, cancel or delete a run',
    errors: [404, 409],
    // The body is documented, not validated by the router: an empty body sent as application/json (what many
    // clients send for a bodiless POST) must mean "no reason", which the router's JSON parser refuses.
    request: {
      params: z.object({ runId, action: z.enum(['pause', 'resume', 'cancel', 'delete']) }),
      body: {
        content: {
          'application/json': { schema: { type: 'object', properties: { reason: { type: 'string', maxLength: 500 } }, additionalProperties: false } },
        },
        required: false,
      },
    },
    responses: { 200: json(runSchema, 'the run after the change') },
  }),
  callbackWorkflowRun: defineRoute({
    method: 'post',
    path: '/runs/{runId}/callback/{status}',
    operationId: 'callbackWorkflowRun',
    summary: 'Move a run waiting on a callback to a status',
    errors: [404, 409],
    request: { params: z.object({ runId, status }), body: { content: { 'application/json': { schema: callbackBody } }, required: true } },
    responses: { 200: json(runSchema, 'the run after the callback') },
  }),
  receiveWorkflowConnector: defineRoute({
    method: 'post',
    path: '/connectors/{name}/{connector}',
    operationId: 'receiveWorkflowConnector',
    summary: "Deliver a webhook to a workflow's connector",
    errors: [404],
    request: { params: z.object({ name, connector: name }), body: { content: { 'application/json': { schema: storableJson } }, required: true } },
    responses: { 202: json(z.object({ result: z.enum(['done', 'skipped']) }), 'what the connector did') },
  }),
};
