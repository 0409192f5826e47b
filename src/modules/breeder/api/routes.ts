/** /api/v1/breeder: breeders (CRUD, start, stop), their trials (paged), best trial and Pareto front; credentials; targets. */
import type { Context } from 'hono';
import { createRouter, Invalid, type AppEnv } from '../../../kernel/index.ts';
import type { CredentialService } from '../runtime/credentials.ts';
import type { BreederService } from '../runtime/service.ts';
import type { TargetService } from '../runtime/targets.ts';
import { addTargetRoutes } from './target-routes.ts';
import { decodeDefinition } from './definition-body.ts';
import { ops } from './operations.ts';

function forceParam(c: Context<AppEnv>): boolean {
  const force = c.req.query('force');
  if (force !== undefined && force !== 'true' && force !== 'false') throw new Invalid('invalid force', [{ path: 'query.force', message: 'true or false' }]);
  return force === 'true';
}

/** The module's HTTP routes. */
export function breederRoutes(svc: BreederService, credentials: CredentialService, targets: TargetService) {
  const app = createRouter('breeder');
  app.openapi(ops.createBreeder, async (c: Context<AppEnv>) => c.json(await svc.create(decodeDefinition(await c.req.text(), c.req.header('content-type'))), 201));
  app.openapi(ops.replaceBreeder, async (c: Context<AppEnv>) => c.json(await svc.replace(c.req.param('id')!, decodeDefinition(await c.req.text(), c.req.header('content-type')), forceParam(c)), 200));
  app.openapi(ops.listBreeders, async (c) => c.json({ breeders: await svc.list() }, 200));
  app.openapi(ops.getBreeder, async (c) => c.json(await svc.get(c.req.valid('param').id), 200));
  app.openapi(ops.deleteBreeder, async (c) => {
    await svc.remove(c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(ops.startBreeder, async (c) => c.json(await svc.start(c.req.valid('param').id), 200));
  app.openapi(ops.stopBreeder, async (c) => {
    const r = await svc.stop(c.req.valid('param').id);
    return 'trials' in r ? c.json(r, 200) : c.json(r, 202);
  });
  app.openapi(
    ops.listBreederTrials,
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await svc.trials(c.req.valid('param').id, q.after, q.limit ?? 100, q.state), 200);
    },
  );
  app.openapi(ops.getBreederBest, async (c) =>
    c.json({ best: await svc.best(c.req.valid('param').id) }, 200),
  );
  app.openapi(ops.getBreederPareto, async (c) =>
    c.json({ front: await svc.pareto(c.req.valid('param').id) }, 200),
  );
  // The body holds secrets, so it is parsed by the service (which names bad fields) and never echoed back.
  app.openapi(ops.createBreederCredential, async (c: Context<AppEnv>) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new Invalid('the body is not JSON', [{ path: 'body', message: 'a JSON object' }]);
    }
    return c.json(await credentials.create(body), 201);
  });
  app.openapi(ops.listBreederCredentials, async (c) =>
    c.json({ credentials: await credentials.list() }, 200),
  );
  app.openapi(ops.getBreederCredential, async (c) => c.json(await credentials.get(c.req.valid('param').name), 200));
  app.openapi(ops.deleteBreederCredential, async (c) => {
    await credentials.remove(c.req.valid('param').name);
    return c.body(null, 204);
  });
  addTargetRoutes(app, targets);
  return app;
}
