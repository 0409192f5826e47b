/**
 * What every API request passes before and after its route: request id, body size limit, bearer auth, rate limit,
 * module scope, body checks (UTF-8, JSON nesting), problem+json refusals, the shell's response headers and the
 * duration histogram, in one plain function around the app's `fetch`, outside Hono. As a Hono middleware the same
 * steps cost a compose chain per request (an async wrapper, a dispatch closure and a promise per layer, since a route
 * behind a middleware takes Hono's multi-handler path), a Map for the context variables and a Headers object built
 * before the route answers. Now a route is Hono's single handler, and the principal and request id reach it in the
 * request's state (request-state.ts) passed as Hono's env. The semantics are those of the separate pieces in auth.ts,
 * rate-limit.ts and request-body.ts, in the same order.
 */
import type { Context, Handler } from 'hono';
import { parse as parseCookies } from 'hono/utils/cookie';
import { getPath } from 'hono/utils/url';
import { PayloadTooLarge, RateLimited, Unauthorized } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { KernelMetrics } from '../metrics.ts';
import type { Principal } from './app-env.ts';
import { requireScope, SESSION_COOKIE, TokenTable, type TokenRecord } from './auth.ts';
import { peerAddress } from './client-address.ts';
import { problemAnswer } from './problem.ts';
import { hitNow, type RateCounter } from './rate-limit.ts';
import { checkBodyBytes, hasRequestBody, installCheckedBody, readBodyBytes } from './request-body.ts';
import { DurationRecorder, requestIdOf } from './request-context.ts';
import { RequestState } from './request-state.ts';
import { refuseNulInUrl } from './url-check.ts';
import { serverSpan } from '../tracing/http-span.ts';
import { tracingOn } from '../tracing/spans.ts';

/** Everything the shell needs. */
export interface ShellOptions {
  metrics: KernelMetrics;
  log: Logger;
  bodyLimitBytes: number;
  auth: { enabled: boolean; tokens: TokenRecord[]; rateLimitPerMinute: number };
  rateCounter: RateCounter;
  /** Enabled modules: `/api/v1/<name>/...` needs `<name>:read` (GET, HEAD) or `<name>:write`. */
  moduleNames: string[];
}

/** The app's own fetch, called with the request's state as Hono's env. */
export type RoutedFetch = (req: Request, state: RequestState) => Response | Promise<Response>;

const ANONYMOUS_ADMIN: Principal = Object.freeze({ name: 'anonymous', scopes: new Set(['admin']) });
const BEARER = /^Bearer\s+(\S+)$/i;

/** What the rate limiter needs of a principal, computed once per principal instead of once per request. */
interface Budget {
  key: string;
  max: number;
  /** `max` as the RateLimit-Limit header's value. */
  limitHeader: string;
}

/**
 * Wraps a route handler (or middleware) of the app so that the first one to see a request's context hands it the
 * shell's work: the checked body goes into Hono's body cache; and each notes its route pattern, which labels the
 * duration histogram and the trace. One property check per handler call; no layer of its own.
 */
export function enteringHandler<H extends Handler>(handler: H, pattern: string): H {
  return ((c: Context, next: () => Promise<void>) => {
    const state = c.env as unknown;
    if (state instanceof RequestState) {
      // The pattern of the last handler that ran, as Hono's `c.req.routePath` (which builds an array to find it).
      state.route = pattern;
      if (state.context !== c) {
        state.context = c;
        if (state.body) installCheckedBody(c, state.body);
      }
    }
    return handler(c, next);
  }) as unknown as H;
}

/** Builds the shell: a fetch function that admits a request, hands it to `routed` and finishes its answer. */
export function shell(o: ShellOptions, routed: RoutedFetch): (req: Request, server?: unknown) => Response | Promise<Response> {
  const tokens = new TokenTable(o.auth.tokens);
  const durations = new DurationRecorder(o.metrics, o.log);
  const refusal = problemAnswer(o.log);
  const modules = o.moduleNames.map((name) => ({ prefix: `/api/v1/${name}`, read: `${name}:read`, write: `${name}:write` }));
  const windowMs = 60_000;
  const limitBytes = o.bodyLimitBytes;
  // Principals are long-lived objects (TokenTable keeps one per token), so their budget is cached on them by identity.
  const budgets = new WeakMap<Principal, Budget>();
  const defaultLimitHeader = String(o.auth.rateLimitPerMinute);
  // The Authorization header's text → its principal: a client sends the same header on every request, so the Bearer
  // parse and the token lookup happen once per header, not once per request.
  const byHeader = new Map<string, Principal>();

  /** The caller's principal; throws 401 for a malformed or unknown bearer token. */
  const callerOf = (headers: Headers): Principal | undefined => {
    if (!o.auth.enabled) return ANONYMOUS_ADMIN;
    const header = headers.get('authorization');
    if (header) {
      const known = byHeader.get(header);
      if (known) return known;
      const m = BEARER.exec(header);
      if (!m) throw new Unauthorized('Authorization header must be "Bearer <token>"');
      const p = tokens.principal(m[1]!);
      if (!p) throw new Unauthorized('unknown or revoked token');
      // Only headers carrying a configured token are remembered; a client that varies its spelling cannot grow it much.
      if (byHeader.size >= 1_000) byHeader.clear();
      byHeader.set(header, p);
      return p;
    }
    // A stale console cookie is not an error: the request just has no principal and the console asks to sign in.
    const cookies = headers.get('cookie');
    const cookie = cookies ? parseCookies(cookies, SESSION_COOKIE)[SESSION_COOKIE] : undefined;
    return cookie ? tokens.principal(cookie) : undefined;
  };

  /** A named principal's budget (cached); anonymous callers are keyed by their connection's address on each request. */
  const budgetOf = (req: Request, state: RequestState, p: Principal | undefined): Budget => {
    // Anonymous callers by their connection's address: X-Forwarded-For is whatever the client writes.
    if (!p || p.name === 'anonymous') {
      const max = p?.rateLimitPerMinute ?? o.auth.rateLimitPerMinute;
      return { key: `ip:${peerAddress(state.server, req)}`, max, limitHeader: max === o.auth.rateLimitPerMinute ? defaultLimitHeader : String(max) };
    }
    let b = budgets.get(p);
    if (!b) {
      const max = p.rateLimitPerMinute ?? o.auth.rateLimitPerMinute;
      b = { key: `token:${p.name}`, max, limitHeader: String(max) };
      budgets.set(p, b);
    }
    return b;
  };

  /** Notes the rate-limit headers for this hit (added to whatever answers it); 429 past the budget. */
  const decide = (state: RequestState, b: Budget, count: number, resetMs: number): void => {
    state.limitHeader = b.limitHeader;
    state.remaining = count < b.max ? b.max - count : 0;
    if (count > b.max) throw new RateLimited(Math.max(1, Math.ceil(resetMs / 1000)));
  };

  /** Counts the hit; synchronous when the counter can answer at once (the in-process and batched counters). */
  const limit = (req: Request, state: RequestState, p: Principal | undefined): void | Promise<void> => {
    const b = budgetOf(req, state, p);
    const now = hitNow(o.rateCounter, b.key, windowMs);
    if (now) return decide(state, b, now.count, now.resetMs);
    return o.rateCounter.hit(b.key, windowMs).then((r) => decide(state, b, r.count, r.resetMs));
  };

  /** `/api/v1/<module>` and below: the module's read or write scope (scope names built once per module, not per request). */
  const moduleScope = (path: string, method: string, p: Principal | undefined): void => {
    if (!path.startsWith('/api/v1/')) return;
    // A handful of modules: comparing prefixes in place costs less than cutting the segment out to look it up.
    for (const m of modules) {
      if (path.startsWith(m.prefix) && (path.length === m.prefix.length || path.charCodeAt(m.prefix.length) === 47 /* / */)) {
        requireScope(p, method === 'GET' || method === 'HEAD' ? m.read : m.write);
        return;
      }
    }
  };

  /**
   * Everything before the route: limits, identity, budget and scope; a promise only when something must be awaited,
   * resolving to the body's bytes when there is a body (checked by the continuation that also calls the route).
   */
  const admit = (req: Request, state: RequestState, path: string): void | Promise<Uint8Array | void> => {
    const headers = req.headers;
    // Content-Length and Transfer-Encoding read once here for the body-limit check, the body test and the read.
    const length = headers.get('content-length');
    const sized = length !== null && !headers.has('transfer-encoding');
    const hasBody = hasRequestBody(req, sized ? length : null);
    // Refused before anything else reads it, as the body-limit middleware did; chunked bodies are counted as read.
    if (hasBody && sized && Number(length) > limitBytes) throw new PayloadTooLarge(limitBytes);
    refuseNulInUrl(req.url);
    const p = callerOf(headers);
    state.principal = p;
    if (path.startsWith('/api/')) {
      const pending = limit(req, state, p);
      // Same order whether the counter answers at once or not: budget (429), then scope (403), then the body.
      if (pending) return pending.then<Uint8Array | void>(() => afterBudget(req, state, path, p, hasBody, sized));
    }
    return afterBudget(req, state, path, p, hasBody, sized);
  };

  const afterBudget = (req: Request, state: RequestState, path: string, p: Principal | undefined, hasBody: boolean, sized: boolean): void | Promise<Uint8Array> => {
    moduleScope(path, req.method, p);
    if (hasBody) return readBodyBytes(req, limitBytes, sized);
  };

  /** The shell's headers on the answer, and its duration observed. */
  const finish = (req: Request, state: RequestState, path: string, started: number, answer: Response): Response => {
    let res = answer;
    try {
      addHeaders(res.headers, state);
    } catch {
      // Headers of some responses are immutable (Response.redirect, a fetched response passed on): answer a copy.
      res = new Response(answer.body, answer);
      addHeaders(res.headers, state);
    }
    durations.record(req.method, path, state.route, res.status, started, state.requestId);
    return res;
  };

  /** A refusal by the shell itself, as problem+json with the same headers as any answer. */
  const refuse = (req: Request, state: RequestState, path: string, started: number, err: unknown): Response =>
    finish(req, state, path, started, refusal(err as Error, { path, method: req.method, requestId: state.requestId, headers: req.headers }));

  const route = (req: Request, state: RequestState, path: string, started: number): Response | Promise<Response> => {
    const res = routed(req, state);
    return res instanceof Promise ? res.then((r) => finish(req, state, path, started, r)) : finish(req, state, path, started, res);
  };

  const handle = (req: Request, state: RequestState, path: string): Response | Promise<Response> => {
    const started = performance.now();
    let pending: void | Promise<Uint8Array | void>;
    try {
      pending = admit(req, state, path);
    } catch (err) {
      return refuse(req, state, path, started, err);
    }
    if (!pending) return route(req, state, path, started);
    return pending.then(
      (bytes) => {
        if (bytes) {
          try {
            state.body = checkBodyBytes(req, bytes);
          } catch (err) {
            return refuse(req, state, path, started, err);
          }
        }
        return route(req, state, path, started);
      },
      (err: unknown) => refuse(req, state, path, started, err),
    );
  };

  return (req, server) => {
    const path = pathOf(req);
    const state = new RequestState(server, requestIdOf(req.headers.get('x-request-id')), path);
    // One boolean check per request while tracing is off.
    if (!tracingOn()) return handle(req, state, path);
    return serverSpan(req, path, () => handle(req, state, path), () => state.route);
  };
}

/**
 * The path as Hono routes it (`getPath` of hono/utils/url), with native searches instead of its loop over each
 * character; a path with a percent escape goes to Hono's own function for the decoding.
 */
function pathOf(req: Request): string {
  const url = req.url;
  const start = url.indexOf('/', url.indexOf(':') + 4);
  if (start < 0) return getPath(req);
  const q = url.indexOf('?', start);
  const h = url.indexOf('#', start);
  const end = q < 0 ? (h < 0 ? url.length : h) : h < 0 ? q : Math.min(q, h);
  const pct = url.indexOf('%', start);
  return pct >= 0 && pct < end ? getPath(req) : url.slice(start, end);
}

/** X-Request-Id always; RateLimit-Limit and RateLimit-Remaining once the request was counted. */
function addHeaders(headers: Headers, state: RequestState): void {
  headers.set('X-Request-Id', state.requestId);
  if (state.limitHeader !== undefined) {
    headers.set('RateLimit-Limit', state.limitHeader);
    headers.set('RateLimit-Remaining', String(state.remaining));
  }
}
