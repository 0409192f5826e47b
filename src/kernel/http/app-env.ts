/** The Hono environment shared by every router: per-request variables set by the kernel's middleware. */

/** Who is calling: a token's name and scopes, or `anonymous` (with admin) when auth is off. */
export interface Principal {
  name: string;
  scopes: Set<string>;
  rateLimitPerMinute?: number;
}

/** Variables on each request's context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    principal?: Principal;
  };
}
