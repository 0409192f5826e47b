/**
 * The one middleware every API request passes: request id, body size limit, bearer auth, rate limit, module scope,
 * body checks (UTF-8, JSON nesting) and the duration histogram, in ONE async layer. Each Hono middleware layer
 * costs microseconds in Bun (a closure, a promise and a dispatch per layer); five separate ones were most of the
 * gap to a bare Hono app. The semantics are those of the separate pieces in auth.ts, rate-limit.ts and
 * request-body.ts, in the same order.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { PayloadTooLarge, RateLimited, Unauthorized } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { KernelMetrics } from '../metrics.ts';
import type { AppEnv, Principal } from './app-env.ts';
import { requireScope, SESSION_COOKIE, TokenTable, type TokenRecord } from './auth.ts';
import { clientAddress } from './client-address.ts';
import { getCookie } from 'hono/cookie';
import { hitNow, type RateCounter } from './rate-limit.ts';
import { checkBody, hasRequestBody } from './request-body.ts';
import { refuseNulInUrl } from './url-check.ts';
import { DurationRecorder, requestIdOf } from './request-context.ts';
import { serverSpan } from '../tracing/http-span.ts';
import { tracingOn } from '../tracing/spans.ts';

/** Everything the shell layer needs. */
export interface ShellOptions {
  metrics: KernelMetrics;
  log: Logger;
  bodyLimitBytes: number;
  auth: { enabled: boolean; tokens: TokenRecord[]; rateLimitPerMinute: number };
  rateCounter: RateCounter;
  /** Enabled modules: `/api/v1/<name>/...` needs `<name>:read` (GET, HEAD) or `<name>:write`. */
  moduleNames: string[];
  /** Renders an error thrown by the shell itself, as the app's onError would. */
  onError: (err: Error, c: Context<AppEnv>) => Response;
}

const ANONYMOUS_ADMIN: Principal = Object.freeze({ name: 'anonymous', scopes: new Set(['admin']) });
const BEARER = /^Bearer\s+(\S+)$/i;

/** What the rate limiter needs of a principal, computed once per principal instead of once per request. */
interface Budget {
  key: string;
  max: number;
  /** `max` as the RateLimit-Limit header's value. */
  limitHeader: string;
}

/** Builds the shell middleware. */
export function shell(o: ShellOptions): MiddlewareHandler<AppEnv> {
  const tokens = new TokenTable(o.auth.tokens);
  const durations = new DurationRecorder(o.metrics, o.log);
  const modules = new Map(o.moduleNames.map((name) => [name, { read: `${name}:read`, write: `${name}:write` }]));
  const windowMs = 60_000;
  const limitBytes = o.bodyLimitBytes;
  // Principals are long-lived objects (TokenTable keeps one per token), so their budget is cached on them by identity.
  const budgets = new WeakMap<Principal, Budget>();
  const defaultLimitHeader = String(o.auth.rateLimitPerMinute);
  // The Authorization header's text → its principal: a client sends the same header on every request, so the Bearer
  // parse and the token lookup happen once per header, not once per request.
  const byHeader = new Map<string, Principal>();

  /** The caller's principal; throws 401 for a malformed or unknown bearer token. */
  const principalOf = (c: Context<AppEnv>, headers: Headers): Principal | undefined => {
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
    const cookie = getCookie(c, SESSION_COOKIE);
    return cookie ? tokens.principal(cookie) : undefined;
  };

  /** A named principal's budget (cached); anonymous callers are keyed by their connection's address on each request. */
  const budgetOf = (c: Context<AppEnv>, p: Principal | undefined): Budget => {
    // Anonymous callers by their connection's address: X-Forwarded-For is whatever the client writes.
    if (!p || p.name === 'anonymous') {
      const max = p?.rateLimitPerMinute ?? o.auth.rateLimitPerMinute;
      return { key: `ip:${clientAddress(c)}`, max, limitHeader: max === o.auth.rateLimitPerMinute ? defaultLimitHeader : String(max) };
    }
    let b = budgets.get(p);
    if (!b) {
      const max = p.rateLimitPerMinute ?? o.auth.rateLimitPerMinute;
      b = { key: `token:${p.name}`, max, limitHeader: String(max) };
      budgets.set(p, b);
    }
    return b;
  };

  /** Sets the rate-limit headers for this hit; 429 past the budget. */
  const decide = (c: Context<AppEnv>, b: Budget, count: number, resetMs: number): void => {
    c.header('RateLimit-Limit', b.limitHeader);
    c.header('RateLimit-Remaining', String(count < b.max ? b.max - count : 0));
    if (count > b.max) throw new RateLimited(Math.max(1, Math.ceil(resetMs / 1000)));
  };

  /** Counts the hit; synchronous when the counter can answer at once (the in-process and batched counters). */
  const limit = (c: Context<AppEnv>, p: Principal | undefined): void | Promise<void> => {
    const b = budgetOf(c, p);
    const now = hitNow(o.rateCounter, b.key, windowMs);
    if (now) return decide(c, b, now.count, now.resetMs);
    return o.rateCounter.hit(b.key, windowMs).then((r) => decide(c, b, r.count, r.resetMs));
  };

  /** `/api/v1/<module>` and below: the module's read or write scope (scope names built once per module, not per request). */
  const moduleScope = (path: string, method: string, p: Principal | undefined): void => {
    if (!path.startsWith('/api/v1/')) return;
    const end = path.indexOf('/', 8);
    const scopes = modules.get(end < 0 ? path.slice(8) : path.slice(8, end));
    if (!scopes) return;
    requireScope(p, method === 'GET' || method === 'HEAD' ? scopes.read : scopes.write);
  };

  /** Everything before the route: limits, identity, budget and scope; a promise only when something must be awaited. */
  const admit = (c: Context<AppEnv>, raw: Request, headers: Headers, hasBody: boolean): void | Promise<void> => {
    // Refused before anything else reads it, as the body-limit middleware did; chunked bodies are counted in checkBody.
    if (hasBody && !headers.has('transfer-encoding')) {
      const length = headers.get('content-length');
      if (length !== null && Number(length) > limitBytes) throw new PayloadTooLarge(limitBytes);
    }
    refuseNulInUrl(raw.url);
    const p = principalOf(c, headers);
    if (p) c.set('principal', p);
    const path = c.req.path;
    if (path.startsWith('/api/')) {
      const pending = limit(c, p);
      // Same order whether the counter answers at once or not: budget (429), then scope (403), then the body.
      if (pending) return pending.then(() => afterBudget(c, path, raw.method, p, hasBody));
    }
    return afterBudget(c, path, raw.method, p, hasBody);
  };

  const afterBudget = (c: Context<AppEnv>, path: string, method: string, p: Principal | undefined, hasBody: boolean): void | Promise<void> => {
    moduleScope(path, method, p);
    if (hasBody) return checkBody(c, limitBytes);
  };

  const handle: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    const raw = c.req.raw;
    const headers = raw.headers;
    const id = requestIdOf(headers.get('x-request-id'));
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    let failed = false;
    try {
      const pending = admit(c, raw, headers, hasRequestBody(raw));
      if (pending) await pending;
    } catch (err) {
      failed = true;
      c.res = o.onError(err as Error, c);
    }
    if (!failed) await next();
    durations.record(c, started, id);
  };
  // One boolean check per request while tracing is off.
  return (c, next) => (tracingOn() ? serverSpan(c, () => handle(c, next)) : handle(c, next));
}
