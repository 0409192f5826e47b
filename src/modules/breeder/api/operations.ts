/**
 * The breeder API's operations, declared once: the router registers them (routes.ts, target-routes.ts), the OpenAPI
 * document is made from them, and the CLI calls them typed (cli.ts), so the three cannot disagree.
 */
import { z } from '@hono/zod-openapi';
import { defineRoute, pageLimitParam } from '../../../kernel/index.ts';

// Generic, so each answer keeps its schema's type for the typed client.
const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });
const id = z.string().min(1).max(100);
const breederSchema = z.object({ id: z.string(), name: z.string(), status: z.string(), generation: z.number(), definition: z.unknown(), trials: z.record(z.string(), z.number()) }).passthrough().openapi('Breeder');
const trialSchema = z.object({ number: z.number(), state: z.string(), params: z.unknown(), values: z.unknown() }).passthrough().openapi('BreederTrial');
const trialsQuery = z.strictObject({
  after: z.coerce.number().int().min(-1).default(-1),
  limit: pageLimitParam.optional(),
  state: z.enum(['running', 'complete', 'fail', 'pruned']).optional(),
});
// Definitions arrive as YAML or JSON text, so the body is read raw rather than through a zod body schema.
const definitionBody = { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } } as const;
const credentialSchema = z.object({ id: z.string(), name: z.string(), kind: z.string(), createdAt: z.string() }).openapi('BreederCredential');
const cname = z.string().min(1).max(64);
const targetSchema = z
  .object({ id: z.string(), name: z.string(), kind: z.enum(['ssh', 'http']), createdAt: z.string() })
  .catchall(z.unknown())
  .openapi('BreederTarget');
const targetName = z.string().min(1).max(64);

const pendingStop = z.object({ breeder: z.string(), status: z.literal('stop_pending'), requestedAt: z.string(), reaches: z.enum(['every_instance', 'this_instance']).optional(), detail: z.string() }).openapi('BreederStopPending');

/** Every operation of /api/v1/breeder, by operationId. */
export const ops = {
  createBreeder: defineRoute({ method: 'post', path: '/breeders', operationId: 'createBreeder', summary: 'Create a breeder from a YAML or JSON definition', errors: [409], request: { body: definitionBody }, responses: { 201: json(breederSchema, 'the new breeder') } }),
  replaceBreeder: defineRoute({ method: 'put', path: '/breeders/{id}', operationId: 'replaceBreeder', summary: "Replace a breeder's definition", errors: [404, 409], request: { params: z.object({ id }), query: z.object({ force: z.string().optional().openapi({ enum: ['true', 'false'], description: 'true: replace even when it changes what running trials use' }) }), body: definitionBody }, responses: { 200: json(breederSchema, 'the breeder') } }),
  listBreeders: defineRoute({ method: 'get', path: '/breeders', operationId: 'listBreeders', summary: 'Every breeder', responses: { 200: json(z.object({ breeders: z.array(breederSchema) }), 'every breeder') } }),
  getBreeder: defineRoute({ method: 'get', path: '/breeders/{id}', operationId: 'getBreeder', summary: 'One breeder with its trial counts', errors: [404], request: { params: z.object({ id }) }, responses: { 200: json(breederSchema, 'the breeder') } }),
  deleteBreeder: defineRoute({ method: 'delete', path: '/breeders/{id}', operationId: 'deleteBreeder', summary: 'Delete a breeder and its trials', errors: [404], request: { params: z.object({ id }) }, responses: { 204: { description: 'deleted with its trials' } } }),
  startBreeder: defineRoute({ method: 'post', path: '/breeders/{id}/start', operationId: 'startBreeder', summary: 'Start a breeder', errors: [404, 409], request: { params: z.object({ id }) }, responses: { 200: json(breederSchema, 'running') } }),
  stopBreeder: defineRoute({ method: 'post', path: '/breeders/{id}/stop', operationId: 'stopBreeder', summary: 'Stop a breeder after its current trials', errors: [404, 409], request: { params: z.object({ id }) }, responses: { 200: json(breederSchema, 'stopped; workers end after their current trial'), 202: json(pendingStop, 'the database is away: the running loops were told to stop; the status is written when the database answers') } }),
  listBreederTrials: defineRoute({ method: 'get', path: '/breeders/{id}/trials', operationId: 'listBreederTrials', summary: "A page of a breeder's trials by number", errors: [404], request: { params: z.object({ id }), query: trialsQuery }, responses: { 200: json(z.object({ items: z.array(trialSchema), nextAfter: z.number().nullable() }), 'a page of trials by number') } }),
  getBreederBest: defineRoute({ method: 'get', path: '/breeders/{id}/best', operationId: 'getBreederBest', summary: 'The best feasible complete trial', errors: [404], request: { params: z.object({ id }) }, responses: { 200: json(z.object({ best: trialSchema.nullable() }), 'the best feasible complete trial') } }),
  getBreederPareto: defineRoute({ method: 'get', path: '/breeders/{id}/pareto', operationId: 'getBreederPareto', summary: 'The non-dominated feasible trials', errors: [404], request: { params: z.object({ id }) }, responses: { 200: json(z.object({ front: z.array(trialSchema) }), 'the non-dominated feasible trials') } }),
  createBreederCredential: defineRoute({ method: 'post', path: '/credentials', operationId: 'createBreederCredential', summary: 'Store a credential (secrets are never returned)', errors: [409], request: { body: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }, responses: { 201: json(credentialSchema, 'metadata only') } }),
  listBreederCredentials: defineRoute({ method: 'get', path: '/credentials', operationId: 'listBreederCredentials', summary: 'Every credential (metadata only)', responses: { 200: json(z.object({ credentials: z.array(credentialSchema) }), 'metadata only; secrets are never returned') } }),
  getBreederCredential: defineRoute({ method: 'get', path: '/credentials/{name}', operationId: 'getBreederCredential', summary: 'One credential (metadata only)', errors: [404], request: { params: z.object({ name: cname }) }, responses: { 200: json(credentialSchema, 'metadata only') } }),
  deleteBreederCredential: defineRoute({ method: 'delete', path: '/credentials/{name}', operationId: 'deleteBreederCredential', summary: 'Delete a credential', errors: [404], request: { params: z.object({ name: cname }) }, responses: { 204: { description: 'deleted' } } }),
  createBreederTarget: defineRoute({ method: 'post', path: '/targets', operationId: 'createBreederTarget', summary: 'Store an ssh or http target', errors: [409], request: { body: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }, responses: { 201: json(targetSchema, 'the target') } }),
  listBreederTargets: defineRoute({ method: 'get', path: '/targets', operationId: 'listBreederTargets', summary: 'Every target', responses: { 200: json(z.object({ targets: z.array(targetSchema) }), 'targets by name') } }),
  getBreederTarget: defineRoute({ method: 'get', path: '/targets/{name}', operationId: 'getBreederTarget', summary: 'One target', errors: [404], request: { params: z.object({ name: targetName }) }, responses: { 200: json(targetSchema, 'the target') } }),
  deleteBreederTarget: defineRoute({ method: 'delete', path: '/targets/{name}', operationId: 'deleteBreederTarget', summary: 'Delete a target', errors: [404], request: { params: z.object({ name: targetName }) }, responses: { 204: { description: 'deleted' } } }),
};
