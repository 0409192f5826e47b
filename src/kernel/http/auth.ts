/** Bearer-token authentication against SHA-256 hashes from config, and scope checks. */
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv, Principal } from './app-env.ts';

export type { Principal } from './app-env.ts';
import { getCookie } from 'hono/cookie';
import { Forbidden, Unauthorized } from '../errors.ts';

/** A configured token (hash only). */
export interface TokenRecord {
  name: string;
  sha256: string;
  scopes: string[];
  rateLimitPerMinute?: number;
}


/** SHA-256 hex of a token, as stored in config. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function principalOf(rec: TokenRecord): Principal {
  return { name: rec.name, scopes: new Set(rec.scopes), rateLimitPerMinute: rec.rateLimitPerMinute };
}

/** Cookie the console sets after its login form, so browsers need not send bearer headers. */
export const SESSION_COOKIE = 'capstan_token';

/** Resolves the caller; with auth off everyone is an admin (only allowed on loopback, enforced by config). */
export function authenticate(enabled: boolean, tokens: TokenRecord[]): MiddlewareHandler<AppEnv> {
  const byHash = new Map(tokens.map((t) => [t.sha256, t]));
  // Hashing every request's token costs more than the rest of auth; remember recent answers (bounded).
  const recent = new Map<string, TokenRecord | null>();
  const lookup = (token: string): TokenRecord | undefined => {
    let rec = recent.get(token);
    if (rec === undefined) {
      rec = byHash.get(hashToken(token)) ?? null;
      if (recent.size >= 1024) recent.clear();
      recent.set(token, rec);
    }
    return rec ?? undefined;
  };
  return async (c, next) => {
    if (!enabled) {
      c.set('principal', { name: 'anonymous', scopes: new Set(['admin']) } satisfies Principal);
      return next();
    }
    const header = c.req.header('authorization');
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new Unauthorized('Authorization header must be "Bearer <token>"');
      const rec = lookup(m[1]!);
      if (!rec) throw new Unauthorized('unknown or revoked token');
      c.set('principal', principalOf(rec));
      return next();
    }
    // A stale console cookie is not an error: the request just has no principal and the console asks to sign in.
    const cookie = getCookie(c, SESSION_COOKIE);
    const rec = cookie ? lookup(cookie) : undefined;
    if (rec) c.set('principal', principalOf(rec));
    return next();
  };
}

/** True if the principal holds `scope`; `admin` holds every scope and `x:write` implies `x:read`. */
export function hasScope(p: Principal | undefined, scope: string): boolean {
  if (!p) return false;
  if (p.scopes.has('admin') || p.scopes.has(scope)) return true;
  return scope.endsWith(':read') && p.scopes.has(scope.replace(/:read$/, ':write'));
}

/** Rejects with 401 when nobody is authenticated, 403 when none of `scopes` is held. */
export function requireAnyScope(...scopes: string[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = c.get('principal');
    if (!p) throw new Unauthorized();
    if (scopes.length > 0 && !scopes.some((s) => hasScope(p, s))) throw new Forbidden(`this needs one of the scopes: ${scopes.join(', ')}`);
    return next();
  };
}

/** Module routes: reads need `<module>:read`, everything else `<module>:write`. */
export function requireModuleScope(module: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const read = c.req.method === 'GET' || c.req.method === 'HEAD';
    return requireAnyScope(`${module}:${read ? 'read' : 'write'}`)(c, next);
  };
}
