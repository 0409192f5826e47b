/** /api/v1/breeder/targets: named ssh and http endpoints that definitions refer to (no secrets: credential names only). */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { defineRoute, Invalid, type ApiRouter, type AppEnv } from '../../../kernel/index.ts';
import type { TargetService } from '../runtime/targets.ts';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

/** Adds the target routes to the module's router. */
export function addTargetRoutes(app: ApiRouter, targets: TargetService): void {
  const targetSchema = z
    .object({ id: z.string(), name: z.string(), kind: z.enum(['ssh', 'http']), createdAt: z.string() })
    .catchall(z.unknown())
    .openapi('BreederTarget');
  const name = z.string().min(1).max(64);
  app.openapi(
    defineRoute({ method: 'post', path: '/targets', operationId: 'createBreederTarget', summary: 'Store an ssh or http target', errors: [409], request: { body: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }, responses: { 201: json(targetSchema, 'the target') } }),
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
  app.openapi(defineRoute({ method: 'get', path: '/targets', operationId: 'listBreederTargets', summary: 'Every target', responses: { 200: json(z.object({ targets: z.array(targetSchema) }), 'targets by name') } }), async (c) =>
    c.json({ targets: await targets.list() }, 200),
  );
  app.openapi(defineRoute({ method: 'get', path: '/targets/{name}', operationId: 'getBreederTarget', summary: 'One target', errors: [404], request: { params: z.object({ name }) }, responses: { 200: json(targetSchema, 'the target') } }), async (c) =>
    c.json(await targets.get(c.req.valid('param').name), 200),
  );
  app.openapi(defineRoute({ method: 'delete', path: '/targets/{name}', operationId: 'deleteBreederTarget', summary: 'Delete a target', errors: [404], request: { params: z.object({ name }) }, responses: { 204: { description: 'deleted' } } }), async (c) => {
    await targets.remove(c.req.valid('param').name);
    return c.body(null, 204);
  });
}
