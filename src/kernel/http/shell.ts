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
import { requireScopeOf, SESSION_COOKIE, TokenTable, type TokenRecord } from './auth.ts';
import { clientAddress } from './client-address.ts';
import { getCookie } from 'hono/cookie';
import { hitNow, type RateCounter } from './rate-limit.ts';
import { checkBody } from './request-body.ts';
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

/** Builds the shell middleware. */
export function shell(o: ShellOptions): MiddlewareHandler<AppEnv> {
  const tokens = new TokenTable(o.auth.tokens);
  const durations = new DurationRecorder(o.metrics, o.log);
  const modules = new Set(o.moduleNames);
  const windowMs = 60_000;

  /** The caller's principal; throws 401 for a malformed or unknown bearer token. */
  const principalOf = (c: Context<AppEnv>): Principal | undefined => {
    if (!o.auth.enabled) return ANONYMOUS_ADMIN;
    const header = c.req.raw.headers.get('authorization');
    if (header) {
      const m = BEARER.exec(header);
      if (!m) throw new Unauthorized('Authorization header must be "Bearer <token>"');
      const p = tokens.principal(m[1]!);
      if (!p) throw new Unauthorized('unknown or revoked token');
      return p;
    }
    // A stale console cookie is not an error: the request just has no principal and the console asks to sign in.
    const cookie = getCookie(c, SESSION_COOKIE);
    return cookie ? tokens.principal(cookie) : undefined;
  };

  /** Counts the hit; 429 past the principal's budget. Synchronous when the counter can answer at once. */
  const limit = (c: Context<AppEnv>, p: Principal | undefined): void | Promise<void> => {
    // Anonymous callers by their connection's address: X-Forwarded-For is whatever the client writes.
    const key = p && p.name !== 'anonymous' ? `token:${p.name}` : `ip:${clientAddress(c)}`;
    const max = p?.rateLimitPerMinute ?? o.auth.rateLimitPerMinute;
    const decide = (count: number, resetMs: number) => {
      c.header('RateLimit-Limit', String(max));
      c.header('RateLimit-Remaining', String(Math.max(0, max - count)));
      if (count > max) throw new RateLimited(Math.max(1, Math.ceil(resetMs / 1000)));
    };
    const now = hitNow(o.rateCounter, key, windowMs);
    if (now) return decide(now.count, now.resetMs);
    return o.rateCounter.hit(key, windowMs).then((r) => decide(r.count, r.resetMs));
  };

  /** `/api/v1/<module>` and below: the module's read or write scope. */
  const moduleScope = (c: Context<AppEnv>, path: string, p: Principal | undefined): void => {
    if (!path.startsWith('/api/v1/')) return;
    const end = path.indexOf('/', 8);
    const name = end < 0 ? path.slice(8) : path.slice(8, end);
    if (!modules.has(name)) return;
    const read = c.req.method === 'GET' || c.req.method === 'HEAD';
    requireScopeOf(p, [`${name}:${read ? 'read' : 'write'}`]);
  };

  const handle: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    const id = requestIdOf(c.req.raw.headers.get('x-request-id'));
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    let failed = false;
    try {
      const raw = c.req.raw;
      // Refused before anything else reads it, as the body-limit middleware did; chunked bodies are counted in checkBody.
      if (raw.body && !raw.headers.has('transfer-encoding')) {
        const length = raw.headers.get('content-length');
        if (length !== null && Number(length) > o.bodyLimitBytes) throw new PayloadTooLarge(o.bodyLimitBytes);
      }
      refuseNulInUrl(raw.url);
      const p = principalOf(c);
      if (p) c.set('principal', p);
      const path = c.req.path;
      if (path.startsWith('/api/')) {
        const pending = limit(c, p);
        if (pending) await pending;
        moduleScope(c, path, p);
      }
      if (raw.body) await checkBody(c, o.bodyLimitBytes);
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
