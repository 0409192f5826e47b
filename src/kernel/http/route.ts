/**
 * defineRoute: the one way an HTTP operation is declared. It makes every operation documented the same way (summary,
 * operationId, tags, security, the problem+json answers a client must handle) so a module cannot leave a route out
 * of /api/v1/openapi.json or describe it half; the router refuses routes not made here (router.ts).
 */
import { z, type RouteConfig } from '@hono/zod-openapi';

/** The bearer scheme's name in components.securitySchemes. */
export const BEARER_SCHEME = 'bearerAuth';

/** The statuses an operation may document as problem+json answers. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 422 | 429 | 503;

const PROBLEM_TEXT: Record<ProblemStatus, string> = {
  400: 'invalid input; `errors` names each bad field',
  401: 'no bearer token, or an unknown one',
  403: 'the token lacks the scope this operation needs',
  404: 'the named thing does not exist',
  408: 'not done within the requested time',
  409: 'conflicts with the current state',
  413: 'the body is larger than the server accepts',
  415: 'the body is not of a media type this operation reads',
  422: 'well-formed but not acceptable (e.g. an idempotency key reused for another request)',
  429: 'rate limited; retry after the Retry-After header',
  503: 'the module is disabled or a dependency is unavailable',
};

/** RFC 9457 problem details, the body of every error answer (rendered by problem.ts). */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi('Problem');

/** What a route declares; `summary` and `operationId` are required, tags default to the router's. */
export type RouteSpec = RouteConfig & {
  summary: string;
  operationId: string;
  /** No bearer token needed (probes, the root). */
  public?: boolean;
  /** Problem answers beyond the ones every operation gets (400 with input, 401/403/429 when secured). */
  errors?: readonly ProblemStatus[];
};

/** A route made by defineRoute: ready for `router.openapi(route, handler)`. */
export type ApiRoute<R extends RouteSpec = RouteSpec> = Omit<R, 'public' | 'errors'>;

const defined = new WeakSet<object>();

/** Whether a route object came from defineRoute (the router checks this). */
export function isDefinedRoute(route: object): boolean {
  return defined.has(route);
}

/** The problem+json answer documented for one status. */
export function documentedProblem(status: ProblemStatus) {
  return { description: PROBLEM_TEXT[status], content: { 'application/problem+json': { schema: problemSchema } } };
}

/** Declares an operation: adds security and the problem answers to what the route states; the types stay the route's own. */
export function defineRoute<const R extends RouteSpec>(spec: R): ApiRoute<R> {
  const { public: isPublic, errors = [], ...route } = spec;
  const statuses = new Set<ProblemStatus>(errors);
  const req = route.request;
  if (req && (req.params || req.query || req.body || req.headers)) statuses.add(400);
  if (req?.body) statuses.add(413).add(415);
  if (!isPublic) statuses.add(401).add(403).add(429);
  const problems: Record<string, ReturnType<typeof documentedProblem>> = {};
  for (const s of [...statuses].sort((a, b) => a - b)) if (!(s in route.responses)) problems[s] = documentedProblem(s);
  const out = {
    ...route,
    security: route.security ?? (isPublic ? [] : [{ [BEARER_SCHEME]: [] }]),
    responses: { ...route.responses, ...problems },
  } as unknown as ApiRoute<R>;
  defined.add(out);
  return out;
}

/** JSON Schema of a zod schema for the document only (the handler parses the input itself, as some must: YAML, empty bodies). */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** A request body described in the document but not parsed by the router (plain JSON Schema, so no validator runs). */
export function documentedBody(schema: z.ZodType, opts: { required?: boolean; mediaTypes?: string[] } = {}) {
  const doc = jsonSchemaOf(schema);
  return { required: opts.required ?? false, content: Object.fromEntries((opts.mediaTypes ?? ['application/json']).map((m) => [m, { schema: doc }])) };
}

/** Query parameters described in the document but not parsed by the router (the handler checks them). */
export function documentedQuery(schema: z.ZodObject): { name: string; in: 'query'; required: boolean; schema: Record<string, unknown> }[] {
  return Object.entries(schema.shape).map(([name, field]) => ({ name, in: 'query' as const, required: !(field as z.ZodType).safeParse(undefined).success, schema: jsonSchemaOf(field as z.ZodType) }));
}
