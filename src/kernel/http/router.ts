/**
 * The router every API route goes through: an OpenAPIHono that takes operations only from defineRoute (route.ts), so
 * each one is in /api/v1/openapi.json with its summary, operationId, tags, security and problem answers. The plain
 * verb methods (get, post, ...) are typed away: a route registered without a document does not compile.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './app-env.ts';
import { Invalid } from '../errors.ts';
import { zodIssues } from '../validation.ts';
import { isDefinedRoute } from './route.ts';
import { fusedValidator, validatedHandler, type FailureHook } from './route-validator.ts';
import { queryGuard } from './query-guard.ts';

/** An API router: `openapi(defineRoute({...}), handler)` and `use` for middleware; no undocumented verbs. */
export class ApiRouter extends OpenAPIHono<AppEnv> {
  /** Use `openapi(defineRoute(...), handler)`: every operation is documented. */
  declare get: never;
  /** Use `openapi(defineRoute(...), handler)`: every operation is documented. */
  declare post: never;
  /** Use `openapi(defineRoute(...), handler)`: every operation is documented. */
  declare put: never;
  /** Use `openapi(defineRoute(...), handler)`: every operation is documented. */
  declare patch: never;
  /** Use `openapi(defineRoute(...), handler)`: every operation is documented. */
  declare delete: never;
  /** Use `openapi(defineRoute(...), handler)`: every operation is documented. */
  declare options: never;
  /** Use `openapi(defineRoute(...), handler)`: every operation is documented. */
  declare all: never;
  /** Use `openapi(defineRoute(...), handler)`: every operation is documented. */
  declare on: never;

  /** @param tag the tag of operations that name none (a module's routers pass the module name). */
  constructor(readonly tag?: string) {
    const fail: FailureHook = (result) => {
      const where = result.target === 'json' ? 'body' : result.target;
      throw new Invalid(`invalid request ${where}`, zodIssues(result.error, where));
    };
    super({
      defaultHook: (result) => {
        if (!result.success) fail(result);
      },
    });
    const register = this.openapi;
    // Refused at registration, so a module that bypasses defineRoute fails the first test that boots it.
    this.openapi = ((route, handler, hook) => {
      if (!isDefinedRoute(route)) throw new Error(`${route.method.toUpperCase()} ${route.path}: declare operations with defineRoute() (summary, operationId)`);
      const tags = route.tags ?? (tag ? [tag] : undefined);
      if (!tags) throw new Error(`${route.method.toUpperCase()} ${route.path}: no tag; pass one to createRouter(tag) or the route`);
      const { middleware, hide, ...documented } = { ...route, tags };
      const before = middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware];
      // Unknown query parameters are a 400 (query-guard.ts); checked just before the inputs are validated.
      const guard = queryGuard(documented);
      // Inputs validated in one synchronous step (route-validator.ts) unless the route brings its own hook.
      const fused = hook ? undefined : fusedValidator(documented, fail, guard);
      if (!fused) return register({ ...route, tags }, guard ? validatedHandler(guard, handler) : handler, hook);
      if (!hide) this.openAPIRegistry.registerPath(documented);
      const { request: _validatedByFused, ...unvalidated } = documented;
      return register({ ...unvalidated, hide: true, middleware: before.length > 0 ? before : undefined } as typeof route, validatedHandler(fused, handler));
    }) as typeof register;
  }
}

/** Creates a router whose validation failures become 400 problem+json naming each field; `tag` groups its operations. */
export function createRouter(tag?: string): ApiRouter {
  return new ApiRouter(tag);
}
