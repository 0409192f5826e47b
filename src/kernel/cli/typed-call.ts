/**
 * Calls an operation through its defineRoute definition, the same object the server registers and the OpenAPI
 * document is made from: path parameters, query and body are typed from the route's request schemas and the answer
 * from its 2xx JSON response schema, so a CLI command cannot drift from the API it calls.
 */
import type { z } from '@hono/zod-openapi';
import type { RawBody } from './client.ts';

/** The statuses whose body a call returns. */
type OkStatus = 200 | 201 | 202 | 204;

/** The zod schema of an `application/json` content entry (never for plain JSON Schema objects). */
type JsonSchemaOf<C> = C extends { content: { 'application/json': { schema: infer S } } } ? (S extends z.ZodType ? S : never) : never;

/** What the route answers on success: the parsed type of its 2xx JSON schema; `unknown` when it documents none by zod. */
export type RouteOutput<R> = R extends { responses: infer Rs }
  ? { [K in keyof Rs]: K extends OkStatus | `${OkStatus}` ? ([JsonSchemaOf<Rs[K]>] extends [never] ? unknown : z.output<JsonSchemaOf<Rs[K]>>) : never }[keyof Rs]
  : unknown;

type Req<R> = R extends { request?: infer Q } ? NonNullable<Q> : object;
type ParamsIn<R> = Req<R> extends { params: infer P } ? (P extends z.ZodType ? { params: z.input<P> } : object) : object;
/**
 * Query values travel as text: any field of the schema, given as a string (checked by the route's schema before
 * sending). A route whose handler checks its query (documented as `parameters`) takes any; the server names a bad one.
 */
type QueryIn<R> = Req<R> extends { query: infer P }
  ? P extends z.ZodType
    ? { query?: { [K in keyof z.input<P>]?: string | number | boolean } }
    : object
  : R extends { parameters: readonly unknown[] }
    ? { query?: Record<string, string | number | boolean | undefined> }
    : object;
/** A zod JSON body is typed; a body documented by plain JSON Schema (YAML text, optional objects) is sent raw or as any JSON. */
type BodyIn<R> = Req<R> extends { body: infer B } ? ([JsonSchemaOf<B>] extends [never] ? { body?: unknown; raw?: RawBody } : { body: z.input<JsonSchemaOf<B>> }) : object;

/** The input of a call to route R: `params` when its path has some, `query`, `body` (or `raw`), extra `headers`. */
export type RouteInput<R> = ParamsIn<R> & QueryIn<R> & BodyIn<R> & { headers?: Record<string, string> };

/** The parts of a route a call needs. */
export interface CallableRoute {
  method: string;
  path: string;
}

/** The request a call makes: the path with its parameters filled in and the query appended. */
export function callTarget(base: string, route: CallableRoute, input: { params?: unknown; query?: unknown }): string {
  const params = (input.params ?? {}) as Record<string, unknown>;
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined || v === null || v === '') throw new Error(`${route.method.toUpperCase()} ${route.path}: no value for {${name}}`);
    return encodeURIComponent(String(v));
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries((input.query ?? {}) as Record<string, unknown>)) if (v !== undefined && v !== null) q.set(k, String(v));
  return `${base}${path}${q.size ? `?${q}` : ''}`;
}
