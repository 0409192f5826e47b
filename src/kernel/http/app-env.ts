/** The Hono environment shared by every router: per-request variables set by the kernel's middleware. */
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

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
    /** Set by the console on a module's /ui pages: renders a body inside the console frame (header, navigation, sign-out). */
    renderPage?: (page: { title: string; status?: ContentfulStatusCode }, body: Child) => Response | Promise<Response>;
  };
}
