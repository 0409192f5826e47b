/** /api/v1/mesh: workloads (apply, list, get, delete, start, stop, fence, move), nodes (cordon, uncordon, drain), leases. */
import type { Context } from 'hono';
import { CapstanError, createRouter, Invalid, zodIssues, type AppEnv } from '../../../kernel/index.ts';
import type { MeshService } from '../service.ts';
import { moveBody, ops } from './operations.ts';

/** Reads a JSON body ({} when empty); Invalid names the field. */
async function body(c: Context<AppEnv>): Promise<unknown> {
  const raw = await c.req.text();
  if (!raw.trim()) return {};
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new CapstanError('UnsupportedMediaType', 415, 'send the body as application/json', { issues: [{ path: 'header.content-type', message: 'must be application/json' }] });
  }
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new Invalid('the body is not valid JSON', [{ path: 'body', message: (err as Error).message }]);
  }
}

/** The module's HTTP routes. */
export function meshRoutes(svc: MeshService) {
  const app = createRouter('mesh');
  // Bodies are described in operations.ts and parsed by the handlers (an empty body means {}).
  app.openapi(ops.listMeshWorkloads, async (c) => c.json({ items: await svc.list() }, 200));
  app.openapi(ops.applyMeshWorkload, async (c: Context<AppEnv>) => {
    const r = await svc.apply(await body(c));
    return c.json(r, r.created ? 201 : 200);
  });
  app.openapi(ops.getMeshWorkload, async (c) => c.json(await svc.get(c.req.param('name')), 200));
  app.openapi(ops.deleteMeshWorkload, async (c) => {
    await svc.remove(c.req.param('name'));
    return c.body(null, 204);
  });
  app.openapi(ops.startMeshWorkload, async (c) => c.json(await svc.setDesired(c.req.param('name'), 'running'), 200));
  app.openapi(ops.stopMeshWorkload, async (c) => c.json(await svc.setDesired(c.req.param('name'), 'stopped'), 200));
  app.openapi(ops.fenceMeshWorkload, async (c) => c.json({ workload: c.req.param('name'), fenced: await svc.fence(c.req.param('name')) }, 200));
  app.openapi(ops.moveMeshWorkload, async (c: Context<AppEnv>) => {
    const parsed = moveBody.safeParse(await body(c));
    if (!parsed.success) throw new Invalid('invalid request body', zodIssues(parsed.error, 'body'));
    return c.json(await svc.move(c.req.param('name')!, parsed.data.to), 200);
  });
  app.openapi(ops.listMeshNodes, async (c) => c.json({ items: await svc.nodes() }, 200));
  for (const action of ['cordon', 'uncordon', 'drain'] as const) {
    app.openapi(ops[`${action}MeshNode`], async (c: Context<AppEnv>) =>
      c.json({ node: c.req.param('id'), ...(await svc.setNode(c.req.param('id')!, action)) }, 200),
    );
  }
  app.openapi(ops.listMeshLeases, async (c) => c.json({ items: await svc.leases() }, 200));
  return app;
}
