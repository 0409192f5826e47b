/** The router factory modules use: an OpenAPIHono whose validation failures become 400 problem+json naming each field. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './app-env.ts';
import { Invalid } from '../errors.ts';
import { zodIssues } from '../validation.ts';

/** Creates a router; routes declared with `createRoute` feed /api/v1/openapi.json. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === 'json' ? 'body' : result.target;
        throw new Invalid(`invalid request ${where}`, zodIssues(result.error, where));
      }
    },
  });
}
