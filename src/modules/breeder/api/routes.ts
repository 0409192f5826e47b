/** /api/v1/breeder: breeders (CRUD, start, stop), their trials (paged), best trial and Pareto front; credentials; targets. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createRouter, defineRoute, Invalid, pageLimitParam, type AppEnv } from '../../../kernel/index.ts';
import type { CredentialService } from '../runtime/credentials.ts';
import type { BreederService } from '../runtime/service.ts';
import type { TargetService } from '../runtime/targets.ts';
import { addTargetRoutes } from './target-routes.ts';
import { decodeDefinition } from './definition-body.ts';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const id = z.string().min(1).max(100);
const breederSchema = z.object({ id: z.string(), name: z.string(), status: z.string(), generation: z.number(), definition: z.unknown(), trials: z.record(z.string(), z.number()) }).passthrough().openapi('Breeder');
const trialSchema = z.object({ number: z.number(), state: z.string(), params: z.unknown(), values: z.unknown() }).passthrough().openapi('BreederTrial');
const trialsQuery = z.strictObject({
  after: z.coerce.number().int().min(-1).default(-1),
  limit: pageLimitParam.optional(),
  state: z.enum(['running', 'complete', 'fail', 'pruned']).optional(),
});

function forceParam(c: Context<AppEnv>): boolean {
  const force = c.req.query('force');
  if (force !== undefined && force !== 'true' && force !== 'false') throw new Invalid('invalid force', [{ path: 'query.force', message: 'true or false' }]);
  return force === 'true';
}

/** The module's HTTP routes. */
export function breederRoutes(svc: BreederService, credentials: CredentialService, targets: TargetService) {
  const app = createRouter('breeder');
  const definitionBody = { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } } as const;
  // Definitions arrive as YAML or JSON text, so the body is read raw rather than through a zod body schema.
  app.openapi(defineRoute({ method: 'post', path: '/breeders', operationId: 'createBreeder', summary: 'Create a breeder from a YAML or JSON definition', errors: [409], request: { body: definitionBody }, responses: { 201: json(breederSchema, 'the new breeder') } }), async (c: Context<AppEnv>) => c.json(await svc.create(decodeDefinition(await c.req.text(), c.req.header('content-type'))), 201));
  app.openapi(defineRoute({ method: 'put', path: '/breeders/{id}', operationId: 'replaceBreeder', summary: "Replace a breeder's definition", errors: [404, 409], request: { params: z.object({ id }), query: z.object({ force: z.string().optional().openapi({ enum: ['true', 'false'], description: 'true: replace even when it changes what running trials use' }) }), body: definitionBody }, responses: { 200: json(breederSchema, 'the breeder') } }), async (c: Context<AppEnv>) => c.json(await svc.replace(c.req.param('id')!, decodeDefinition(await c.req.text(), c.req.header('content-type')), forceParam(c)), 200));
  app.openapi(defineRoute({ method: 'get', path: '/breeders', operationId: 'listBreeders', summary: 'Every breeder', responses: { 200: json(z.object({ breeders: z.array(breederSchema) }), 'every breeder') } }), async (c) => c.json({ breeders: await svc.list() }, 200));
  app.openapi(defineRoute({ method: 'get', path: '/breeders/{id}', operationId: 'getBreeder', summary: 'One breeder with its trial counts', errors: [404], request: { params: z.object({ id }) }, responses: { 200: json(breederSchema, 'the breeder') } }), async (c) => c.json(await svc.get(c.req.valid('param').id), 200));
  app.openapi(defineRoute({ method: 'delete', path: '/breeders/{id}', operationId: 'deleteBreeder', summary: 'Delete a breeder and its trials', errors: [404], request: { params: z.object({ id }) }, responses: { 204: { description: 'deleted with its trials' } } }), async (c) => {
    await svc.remove(c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(defineRoute({ method: 'post', path: '/breeders/{id}/start', operationId: 'startBreeder', summary: 'Start a breeder', errors: [404, 409], request: { params: z.object({ id }) }, responses: { 200: json(breederSchema, 'running') } }), async (c) => c.json(await svc.start(c.req.valid('param').id), 200));
  const pendingStop = z.object({ breeder: z.string(), status: z.literal('stop_pending'), requestedAt: z.string(), detail: z.string() }).openapi('BreederStopPending');
  app.openapi(defineRoute({ method: 'post', path: '/breeders/{id}/stop', operationId: 'stopBreeder', summary: 'Stop a breeder after its current trials', errors: [404, 409], request: { params: z.object({ id }) }, responses: { 200: json(breederSchema, 'stopped; workers end after their current trial'), 202: json(pendingStop, 'the database is away: the running loops were told to stop; the status is written when the database answers') } }), async (c) => {
    const r = await svc.stop(c.req.valid('param').id);
    return 'trials' in r ? c.json(r, 200) : c.json(r, 202);
  });
  app.openapi(
    defineRoute({ method: 'get', path: '/breeders/{id}/trials', operationId: 'listBreederTrials', summary: "A page of a breeder's trials by number", errors: [404], request: { params: z.object({ id }), query: trialsQuery }, responses: { 200: json(z.object({ items: z.array(trialSchema), nextAfter: z.number().nullable() }), 'a page of trials by number') } }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await svc.trials(c.req.valid('param').id, q.after, q.limit ?? 100, q.state), 200);
    },
  );
  app.openapi(defineRoute({ method: 'get', path: '/breeders/{id}/best', operationId: 'getBreederBest', summary: 'The best feasible complete trial', errors: [404], request: { params: z.object({ id }) }, responses: { 200: json(z.object({ best: trialSchema.nullable() }), 'the best feasible complete trial') } }), async (c) =>
    c.json({ best: await svc.best(c.req.valid('param').id) }, 200),
  );
  app.openapi(defineRoute({ method: 'get', path: '/breeders/{id}/pareto', operationId: 'getBreederPareto', summary: 'The non-dominated feasible trials', errors: [404], request: { params: z.object({ id }) }, responses: { 200: json(z.object({ front: z.array(trialSchema) }), 'the non-dominated feasible trials') } }), async (c) =>
    c.json({ front: await svc.pareto(c.req.valid('param').id) }, 200),
  );
  const credentialSchema = z.object({ id: z.string(), name: z.string(), kind: z.string(), createdAt: z.string() }).openapi('BreederCredential');
  const cname = z.string().min(1).max(64);
  // The body holds secrets, so it is parsed by the service (which names bad fields) and never echoed back.
  app.openapi(defineRoute({ method: 'post', path: '/credentials', operationId: 'createBreederCredential', summary: 'Store a credential (secrets are never returned)', errors: [409], request: { body: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }, responses: { 201: json(credentialSchema, 'metadata only') } }), async (c: Context<AppEnv>) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new Invalid('the body is not JSON', [{ path: 'body', message: 'a JSON object' }]);
    }
    return c.json(await credentials.create(body), 201);
  });
  app.openapi(defineRoute({ method: 'get', path: '/credentials', operationId: 'listBreederCredentials', summary: 'Every credential (metadata only)', responses: { 200: json(z.object({ credentials: z.array(credentialSchema) }), 'metadata only; secrets are never returned') } }), async (c) =>
    c.json({ credentials: await credentials.list() }, 200),
  );
  app.openapi(defineRoute({ method: 'get', path: '/credentials/{name}', operationId: 'getBreederCredential', summary: 'One credential (metadata only)', errors: [404], request: { params: z.object({ name: cname }) }, responses: { 200: json(credentialSchema, 'metadata only') } }), async (c) => c.json(await credentials.get(c.req.valid('param').name), 200));
  app.openapi(defineRoute({ method: 'delete', path: '/credentials/{name}', operationId: 'deleteBreederCredential', summary: 'Delete a credential', errors: [404], request: { params: z.object({ name: cname }) }, responses: { 204: { description: 'deleted' } } }), async (c) => {
    await credentials.remove(c.req.valid('param').name);
    return c.body(null, 204);
  });
  addTargetRoutes(app, targets);
  return app;
}
