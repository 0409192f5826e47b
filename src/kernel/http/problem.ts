/** RFC 9457 problem+json rendering: every error response of the API goes through here. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CapstanError, Invalid, RateLimited } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isTransient } from '../retry.ts';
import { activeTraceId } from '../tracing/spans.ts';

/** The body of an error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId?: string;
  /** The trace this request belongs to, while tracing is on. */
  traceId?: string;
  errors?: { path: string; message: string }[];
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId']);

/** Builds a problem+json response for a given status and details. */
export function problemResponse(c: Context, status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Response {
  // RFC 9457's own members cannot be replaced by an error's details (a module passing `{ status: 'completed' }` made
  // `status` a string); such a detail is kept under `<name>Detail` instead.
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) details[RESERVED.has(k) ? `${k}Detail` : k] = v;
  const body: Problem = {
    ...details,
    type: `urn:capstan:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: c.req.path,
    code,
    requestId: c.get('requestId') as string | undefined,
  };
  const traceId = activeTraceId();
  if (traceId) body.traceId = traceId;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (typeof extra.retryAfterSeconds === 'number') headers['retry-after'] = String(extra.retryAfterSeconds);
  if (Array.isArray(extra.allow)) headers.allow = extra.allow.join(', ');
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, headers);
}

/**
 * Hono's validators throw bare HTTPExceptions for a body that is not JSON (400) or not sent as JSON (415). Both are
 * about one field, which the problem names like any other invalid input.
 */
function httpExceptionProblem(c: Context, err: HTTPException): Response {
  if (err.status === 400 && /^Malformed JSON/i.test(err.message)) {
    return problemResponse(c, 400, 'Invalid', 'the request body is not valid JSON', { errors: [{ path: 'body', message: 'not valid JSON' }] });
  }
  if (err.status === 415) {
    const sent = c.req.header('content-type');
    return problemResponse(c, 415, 'UnsupportedMediaType', `send the body as application/json${sent ? `, not ${sent}` : ''}`, { errors: [{ path: 'header.content-type', message: 'must be application/json' }] });
  }
  return problemResponse(c, err.status, `Http${err.status}`, err.message || TITLES[err.status] || 'error');
}

/** The app's onError: typed errors keep their status; anything else is a 500 with no stack, logged with the request id. */
export function errorHandler(log: Logger) {
  return (err: Error, c: Context): Response => {
    if (err instanceof Invalid) return problemResponse(c, 400, err.code, err.message, { errors: err.issues });
    if (err instanceof RateLimited) return problemResponse(c, 429, err.code, err.message, { retryAfterSeconds: err.retryAfterSeconds });
    if (err instanceof CapstanError) return problemResponse(c, err.status, err.code, err.message, err.details);
    if (err instanceof HTTPException && err.status < 500) return httpExceptionProblem(c, err);
    if (isTransient(err)) {
      // A dependency is down or overloaded (connection refused or reset, SQLSTATE 08/40/53/57): the client may
      // retry, which a 500 would not tell it. The cause is logged, not sent.
      log.warn({ err, requestId: c.get('requestId'), path: c.req.path, method: c.req.method }, 'dependency unavailable');
      return problemResponse(c, 503, 'Unavailable', 'a dependency is unavailable; retry later', { retryAfterSeconds: 1 });
    }
    log.error({ err, requestId: c.get('requestId'), path: c.req.path, method: c.req.method }, 'unhandled error');
    return problemResponse(c, 500, 'Internal', 'internal error; see the server log for this request id');
  };
}
