/** RFC 9457 problem+json rendering: every error response of the API goes through here. */
import { currentRequestId } from './request-state.ts';
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

/** What a problem is about: the request as the body and the log name it (a Hono context or the shell's own view). */
export interface ProblemSubject {
  path: string;
  method: string;
  requestId?: string;
  headers: Headers;
}

/** The subject of a problem answered inside Hono. */
function subjectOf(c: Context): ProblemSubject {
  return { path: c.req.path, method: c.req.method, requestId: currentRequestId(c), headers: c.req.raw.headers };
}

/** The status, code, detail and extra members of an error's problem. */
interface Answer {
  status: number;
  code: string;
  detail: string;
  extra?: Record<string, unknown>;
}

/** A problem+json body and its headers. */
function problemOf(s: ProblemSubject, a: Answer): { body: string; headers: Record<string, string> } {
  const extra = a.extra ?? {};
  // RFC 9457's own members cannot be replaced by an error's details (a module passing `{ status: 'completed' }` made
  // `status` a string); such a detail is kept under `<name>Detail` instead.
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) details[RESERVED.has(k) ? `${k}Detail` : k] = v;
  const body: Problem = {
    ...details,
    type: `urn:capstan:problem:${a.code}`,
    title: TITLES[a.status] ?? 'Error',
    status: a.status,
    detail: a.detail,
    instance: s.path,
    code: a.code,
    requestId: s.requestId,
  };
  const traceId = activeTraceId();
  if (traceId) body.traceId = traceId;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (typeof extra.retryAfterSeconds === 'number') headers['retry-after'] = String(extra.retryAfterSeconds);
  if (Array.isArray(extra.allow)) headers.allow = extra.allow.join(', ');
  return { body: JSON.stringify(body), headers };
}

/** Builds a problem+json response for a given status and details. */
export function problemResponse(c: Context, status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Response {
  const p = problemOf(subjectOf(c), { status, code, detail, extra });
  return c.body(p.body, status as ContentfulStatusCode, p.headers);
}

/**
 * Hono's validators throw bare HTTPExceptions for a body that is not JSON (400) or not sent as JSON (415). Both are
 * about one field, which the problem names like any other invalid input.
 */
function httpExceptionAnswer(s: ProblemSubject, err: HTTPException): Answer {
  if (err.status === 400 && /^Malformed JSON/i.test(err.message)) {
    return { status: 400, code: 'Invalid', detail: 'the request body is not valid JSON', extra: { errors: [{ path: 'body', message: 'not valid JSON' }] } };
  }
  if (err.status === 415) {
    const sent = s.headers.get('content-type');
    return { status: 415, code: 'UnsupportedMediaType', detail: `send the body as application/json${sent ? `, not ${sent}` : ''}`, extra: { errors: [{ path: 'header.content-type', message: 'must be application/json' }] } };
  }
  return { status: err.status, code: `Http${err.status}`, detail: err.message || TITLES[err.status] || 'error' };
}

/** Typed errors keep their status; anything else is a 500 with no stack, logged with the request id. */
function answerOf(log: Logger, err: Error, s: ProblemSubject): Answer {
  if (err instanceof Invalid) return { status: 400, code: err.code, detail: err.message, extra: { errors: err.issues } };
  if (err instanceof RateLimited) return { status: 429, code: err.code, detail: err.message, extra: { retryAfterSeconds: err.retryAfterSeconds } };
  if (err instanceof CapstanError) return { status: err.status, code: err.code, detail: err.message, extra: err.details };
  if (err instanceof HTTPException && err.status < 500) return httpExceptionAnswer(s, err);
  if (isTransient(err)) {
    // A dependency is down or overloaded (connection refused or reset, SQLSTATE 08/40/53/57): the client may
    // retry, which a 500 would not tell it. The cause is logged, not sent.
    log.warn({ err, requestId: s.requestId, path: s.path, method: s.method }, 'dependency unavailable');
    return { status: 503, code: 'Unavailable', detail: 'a dependency is unavailable; retry later', extra: { retryAfterSeconds: 1 } };
  }
  log.error({ err, requestId: s.requestId, path: s.path, method: s.method }, 'unhandled error');
  return { status: 500, code: 'Internal', detail: 'internal error; see the server log for this request id' };
}

/** The app's onError: typed errors keep their status; anything else is a 500 with no stack, logged with the request id. */
export function errorHandler(log: Logger) {
  return (err: Error, c: Context): Response => {
    const s = subjectOf(c);
    const a = answerOf(log, err, s);
    const p = problemOf(s, a);
    return c.body(p.body, a.status as ContentfulStatusCode, p.headers);
  };
}

/** The same answers for errors thrown outside Hono (the shell refusing a request before any route sees it). */
export function problemAnswer(log: Logger) {
  return (err: Error, s: ProblemSubject): Response => {
    const a = answerOf(log, err, s);
    const p = problemOf(s, a);
    return new Response(p.body, { status: a.status, headers: p.headers });
  };
}
