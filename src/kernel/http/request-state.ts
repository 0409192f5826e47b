/**
 * What the shell (shell.ts) knows about one request, handed to the routes as Hono's `env` instead of context
 * variables: `c.set` builds a Map on every request and needs a middleware layer inside Hono to run, which turns
 * every route into Hono's slower multi-handler path. Routes read it through `principalOf(c)` / `currentRequestId(c)`.
 * The field `server` holds what Bun.serve passed as env, where `hono/bun` looks for it (`getBunServer`).
 */
import type { Context } from 'hono';
import type { Principal } from './app-env.ts';

/** The body the shell read and checked, kept until the route's context exists to hold it. */
export interface CheckedBody {
  bytes: Uint8Array;
  /** The decoded text for text media types; undefined for bodies kept as bytes. */
  text?: string;
}

/** One request's state, from the shell to the route and back. */
export class RequestState {
  principal?: Principal;
  /** The context Hono made for this request, once a route or middleware saw it. */
  context?: Context;
  /** The route pattern of the last handler that ran (undefined when no route matched). */
  route?: string;
  body?: CheckedBody;
  /** RateLimit-Limit and RateLimit-Remaining, once the request was counted against a budget. */
  limitHeader?: string;
  remaining?: number;

  constructor(
    /** What Bun.serve hands to fetch (its Server), or the env given to `app.request` in tests. */
    readonly server: unknown,
    readonly requestId: string,
    /** The request's path as Hono routes it (percent-decoded like `c.req.path`). */
    readonly path: string,
  ) {}
}

/** The shell's state of the request `c` belongs to, if it came through the shell. */
export function requestStateOf(c: Context): RequestState | undefined {
  const env = c.env as unknown;
  return env instanceof RequestState ? env : undefined;
}

/**
 * The caller's principal: set by the shell, or as a context variable by a middleware of an app without the shell
 * (the worker's metrics endpoint, tests).
 */
export function principalOf(c: Context): Principal | undefined {
  return (c.get('principal') as Principal | undefined) ?? requestStateOf(c)?.principal;
}

/** The request's id (as sent in X-Request-Id), if the request came through the shell or a middleware set one. */
export function currentRequestId(c: Context): string | undefined {
  return requestStateOf(c)?.requestId ?? (c.get('requestId') as string | undefined);
}

/** What Bun.serve passed as the app's env (its Server), whether or not the request came through the shell. */
export function serverOf(c: Context): unknown {
  const state = requestStateOf(c);
  return state ? state.server : c.env;
}
