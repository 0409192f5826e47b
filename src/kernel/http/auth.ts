/** Bearer-token authentication against SHA-256 hashes from config, and scope checks. */
import { principalOf as principalFor } from './request-state.ts';
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

/**
 * Configured tokens by their hash, with the answer for each presented token remembered for the life of the table:
 * hashing every request's token cost more than the rest of auth. Only tokens that match are remembered (at most one
 * entry per configured token's plain text), so random guesses cannot grow or flush the cache.
 */
export class TokenTable {
  private readonly byHash: Map<string, Principal>;
  private readonly known = new Map<string, Principal>();

  constructor(tokens: TokenRecord[]) {
    this.byHash = new Map(tokens.map((t) => [t.sha256, principalOf(t)]));
  }

  /** The principal of a presented token, or undefined when no configured token has its hash. */
  principal(token: string): Principal | undefined {
    const hit = this.known.get(token);
    if (hit) return hit;
    const p = this.byHash.get(hashToken(token));
    if (p) this.known.set(token, p);
    return p;
  }
}

/** Resolves the caller; with auth off everyone is an admin (only allowed on loopback, enforced by config). */
export function authenticate(enabled: boolean, tokens: TokenRecord[]): MiddlewareHandler<AppEnv> {
  const table = new TokenTable(tokens);
  return async (c, next) => {
    if (!enabled) {
      c.set('principal', { name: 'anonymous', scopes: new Set(['admin']) } satisfies Principal);
      return next();
    }
    const header = c.req.header('authorization');
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new Unauthorized('Authorization header must be "Bearer <token>"');
      const p = table.principal(m[1]!);
      if (!p) throw new Unauthorized('unknown or revoked token');
      c.set('principal', p);
      return next();
    }
    // A stale console cookie is not an error: the request just has no principal and the console asks to sign in.
    const cookie = getCookie(c, SESSION_COOKIE);
    const p = cookie ? table.principal(cookie) : undefined;
    if (p) c.set('principal', p);
    return next();
  };
}

/** True if the principal holds `scope`; `admin` holds every scope and `x:write` implies `x:read`. */
export function hasScope(p: Principal | undefined, scope: string): boolean {
  if (!p) return false;
  if (p.scopes.has('admin') || p.scopes.has(scope)) return true;
  return scope.endsWith(':read') && p.scopes.has(scope.replace(/:read$/, ':write'));
}

/** Throws 401 when nobody is authenticated, 403 when none of `scopes` is held (any principal passes when `scopes` is empty). */
export function requireScopeOf(p: Principal | undefined, scopes: string[]): void {
  if (!p) throw new Unauthorized();
  if (scopes.length > 0 && !scopes.some((s) => hasScope(p, s))) throw new Forbidden(`this needs one of the scopes: ${scopes.join(', ')}`);
}

/** `requireScopeOf` for one scope, without an array per call (the shell checks a module scope on every request). */
export function requireScope(p: Principal | undefined, scope: string): void {
  if (!p) throw new Unauthorized();
  if (!hasScope(p, scope)) throw new Forbidden(`this needs one of the scopes: ${scope}`);
}

/** Rejects with 401 when nobody is authenticated, 403 when none of `scopes` is held. */
export function requireAnyScope(...scopes: string[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    requireScopeOf(principalFor(c), scopes);
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
