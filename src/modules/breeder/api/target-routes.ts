/** /api/v1/breeder/targets: named ssh and http endpoints that definitions refer to (no secrets: credential names only). */
import type { Context } from 'hono';
import { Invalid, type ApiRouter, type AppEnv } from '../../../kernel/index.ts';
import type { TargetService } from '../runtime/targets.ts';
import { ops } from './operations.ts';

/** Adds the target routes to the module's router. */
export function addTargetRoutes(app: ApiRouter, targets: TargetService): void {
  app.openapi(
    ops.createBreederTarget,
    async (c: Context<AppEnv>) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw new Invalid('the body is not JSON', [{ path: 'body', message: 'a JSON object' }]);
      }
      return c.json(await targets.create(body), 201);
    },
  );
  app.openapi(ops.listBreederTargets, async (c) =>
    c.json({ targets: await targets.list() }, 200),
  );
  app.openapi(ops.getBreederTarget, async (c) =>
    c.json(await targets.get(c.req.valid('param').name), 200),
  );
  app.openapi(ops.deleteBreederTarget, async (c) => {
    await targets.remove(c.req.valid('param').name);
    return c.body(null, 204);
  });
}
