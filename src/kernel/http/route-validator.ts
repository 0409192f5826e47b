/**
 * One synchronous validation step per route instead of @hono/zod-openapi's chain (one async middleware per input,
 * plus a media-type gate in front of a JSON body, each awaiting the next). On a validated POST that chain was a
 * fifth of the kernel's own time. Same checks, same order (query, params, media type, JSON body), same errors:
 * 415 for a body not sent as a declared media type, 400 for JSON that does not parse, and the router's Invalid
 * (400 naming each field) for a schema failure. Routes with inputs this does not cover (headers, cookies, forms,
 * a per-route hook) keep the library's chain; see `fusedValidator`.
 */
import type { RouteConfig } from '@hono/zod-openapi';
import type { Context, Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';
import { checkedTextOf, hasRequestBody } from './request-body.ts';
import { fastBodyCheck, REFUSED } from './fast-body-check.ts';

/** How a schema failure is reported: the router's default hook (throws Invalid naming the fields). */
export type FailureHook = (result: { success: false; error: z.ZodError; target: string }) => void;

// The library's tests for JSON media types, kept identical so a request is accepted or refused exactly as before.
const JSON_DECLARED = /^application\/([a-z-.]+\+)?json/i;
const JSON_REQUEST = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;
const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

/** Parses `value`; zod's synchronous parse unless the schema has async parts (then the async one). */
function parse(schema: z.ZodType, value: unknown): z.ZodSafeParseResult<unknown> | Promise<z.ZodSafeParseResult<unknown>> {
  try {
    return schema.safeParse(value);
  } catch (err) {
    // zod refuses a synchronous parse of a schema with async refinements or transforms.
    if ((err as Error).constructor?.name === '$ZodAsyncError') return schema.safeParseAsync(value);
    throw err;
  }
}

/** The query as Hono's validator passes it: a key given once is a string, given more often an array. */
function queryOf(c: Context): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(c.req.queries())) out[k] = v.length === 1 ? v[0]! : v;
  return out;
}

/** True when the request carries a non-empty body (the library's check for a body sent without a Content-Type). */
async function hasBody(c: Context): Promise<boolean> {
  const text = checkedTextOf(c);
  if (text !== undefined) return text.length > 0;
  if (!hasRequestBody(c.req.raw)) return false;
  return (await c.req.arrayBuffer()).byteLength > 0;
}

/**
 * The one validation step for `route` (throws or rejects on bad input), or undefined when the route needs the library's chain: inputs other
 * than query, params and a JSON body, or a body declaring other media types (YAML and text bodies are documented
 * with plain JSON Schema and parsed by their handlers, so they have no zod schema and need no validator here).
 */
export function fusedValidator(route: RouteConfig, fail: FailureHook, guard?: (c: Context) => void): ((c: Context) => Promise<void> | void) | undefined {
  const req = route.request;
  if (!req) return undefined;
  if (req.headers || req.cookies) return undefined;
  const query = req.query as z.ZodType | undefined;
  const params = req.params as z.ZodType | undefined;
  const content = req.body?.content as Record<string, { schema?: unknown } | undefined> | undefined;
  const declared = content ? Object.keys(content) : [];
  const zodBodies = declared.filter((m) => isZod(content![m]?.schema));
  if (zodBodies.some((m) => !JSON_DECLARED.test(m))) return undefined;
  const bodySchema = zodBodies.length > 0 ? (content![zodBodies[0]!]!.schema as z.ZodType) : undefined;
  // The library validates each declared JSON media type in turn; more than one zod-typed JSON type is not fused.
  if (zodBodies.length > 1) return undefined;
  const bodyRequired = req.body?.required === true;
  if (!query && !params && !bodySchema) return undefined;

  const settle = (target: 'query' | 'param' | 'json', r: z.ZodSafeParseResult<unknown>, c: Context): void => {
    if (!r.success) {
      fail({ success: false, error: r.error, target });
      // A hook that does not throw leaves the answer to the library's default.
      throw new HTTPException(400, { res: c.json(r, 400) });
    }
    c.req.addValidatedData(target, r.data as object);
  };
  const check = (target: 'query' | 'param' | 'json', schema: z.ZodType, value: unknown, c: Context): Promise<void> | void => {
    const r = parse(schema, value);
    if (r instanceof Promise) return r.then((done) => settle(target, done, c));
    settle(target, r, c);
  };

  /** The JSON body, parsed: from the shell's checked text when it read the body, else through Hono (async). */
  const jsonOf = (c: Context): unknown => {
    const text = checkedTextOf(c);
    return text !== undefined ? parseJson(text) : c.req.text().then(parseJson);
  };

  // Clients send the same Content-Type on every request: the verdict on the last one is kept (pure function of it).
  let lastType: string | undefined;
  let lastAccepted = false;
  const accepted = (contentType: string): boolean => {
    if (contentType !== lastType) {
      lastAccepted = declared.some((m) => m === '*/*' || (JSON_DECLARED.test(m) ? JSON_REQUEST.test(contentType) : mediaMatches(contentType, m)));
      lastType = contentType;
    }
    return lastAccepted;
  };
  let lastJsonType: string | undefined;
  let lastJson = { declared: false, media: false };
  /** Whether a Content-Type is a JSON type (the library's loose test) and a JSON media type exactly. */
  const jsonKind = (contentType: string) => {
    if (contentType !== lastJsonType) {
      lastJson = { declared: JSON_DECLARED.test(contentType), media: JSON_MEDIA.test(contentType.split(';')[0]!.trim().toLowerCase()) };
      lastJsonType = contentType;
    }
    return lastJson;
  };

  const validateBody = (c: Context): Promise<void> | void => {
    const contentType = c.req.raw.headers.get('content-type') ?? undefined;
    if (contentType) {
      if (!accepted(contentType)) throw new HTTPException(415, { message: 'Unsupported Media Type' });
    } else if (hasRequestBody(c.req.raw)) {
      return hasBody(c).then((yes) => {
        if (yes) throw new HTTPException(415, { message: 'Unsupported Media Type' });
        return validateJson(c, undefined);
      });
    }
    return validateJson(c, contentType);
  };

  const validateJson = (c: Context, contentType: string | undefined): Promise<void> | void => {
    const schema = bodySchema!;
    // An optional body sent without a JSON type validates as absent, as the library does.
    const kind = contentType ? jsonKind(contentType) : undefined;
    if (!bodyRequired && !kind?.declared) {
      c.req.addValidatedData('json', {});
      return;
    }
    if (!kind?.media) return check('json', schema, {}, c);
    const value = jsonOf(c);
    if (value instanceof Promise) return value.then((v) => checkJson(v, c));
    return checkJson(value, c);
  };

  // A valid body passes the precompiled check (same result as zod); anything it refuses goes to zod for the errors.
  const fast = bodySchema ? fastBodyCheck(bodySchema) : undefined;
  const checkJson = (value: unknown, c: Context): Promise<void> | void => {
    if (fast) {
      const parsed = fast(value);
      if (parsed !== REFUSED) {
        c.req.addValidatedData('json', parsed as object);
        return;
      }
    }
    return check('json', bodySchema!, value, c);
  };

  const afterQuery = (c: Context): Promise<void> | void => {
    const p = params ? check('param', params, c.req.param(), c) : undefined;
    if (p instanceof Promise) return bodySchema ? p.then(() => validateBody(c)) : p;
    return bodySchema ? validateBody(c) : undefined;
  };

  // A thrown error reaches Hono's compose as a rejection either way; a promise only when one is needed.
  return (c) => {
    guard?.(c);
    const q = query ? check('query', query, queryOf(c), c) : undefined;
    return q instanceof Promise ? q.then(() => afterQuery(c)) : afterQuery(c);
  };
}

/**
 * A route's validation and its handler as ONE handler: each handler Hono composes is one more async step per
 * request, so the validator does not take a layer of its own.
 */
export function validatedHandler<H extends (c: never, next: never) => unknown>(validate: (c: Context) => Promise<void> | void, handler: H): H {
  const h = handler as unknown as (c: Context, next: Next) => unknown;
  return ((c: Context, next: Next) => {
    const v = validate(c);
    return v instanceof Promise ? v.then(() => h(c, next)) : h(c, next);
  }) as unknown as H;
}


/** A body's JSON, or the 400 the library answers for JSON that does not parse. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  }
}

/** A declared non-JSON media type against the request's Content-Type (the library's rule for these). */
function mediaMatches(contentType: string, mediaType: string): boolean {
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType.endsWith('/*')) return essence.startsWith(mediaType.slice(0, -1).toLowerCase());
  return essence === mediaType.toLowerCase();
}

/** The library's test for a zod schema. */
function isZod(x: unknown): x is z.ZodType {
  return typeof x === 'object' && x !== null && typeof (x as z.ZodType).safeParse === 'function' && typeof (x as z.ZodType).safeParseAsync === 'function';
}
