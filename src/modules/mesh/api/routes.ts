/** /api/v1/mesh: workloads (apply, list, get, delete, start, stop, fence, move), nodes (cordon, uncordon, drain), leases. */
import type { Context } from 'hono';
import * as z from 'zod';
import { CapstanError, createRouter, defineRoute, documentedBody, Invalid, zodIssues, type AppEnv } from '../../../kernel/index.ts';
import { nodeIdSchema } from '../model/workload.ts';
import type { MeshService } from '../service.ts';

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

const moveBody = z.strictObject({ to: nodeIdSchema });
const nameParam = z.object({ name: z.string().min(1) });
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });

/** The module's HTTP routes. */
export function meshRoutes(svc: MeshService) {
  const app = createRouter('mesh');
  // Bodies are described here and parsed by the handlers (an empty body means {}).
  app.openapi(defineRoute({ method: 'get', path: '/workloads', operationId: 'listMeshWorkloads', summary: 'Every workload with its placement', responses: { 200: ok('the workloads') } }), async (c) => c.json({ items: await svc.list() }, 200));
  app.openapi(defineRoute({ method: 'post', path: '/workloads', operationId: 'applyMeshWorkload', summary: 'Create or update a workload', errors: [400, 409], request: { body: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }, responses: { 200: ok('updated'), 201: ok('created') } }), async (c: Context<AppEnv>) => {
    const r = await svc.apply(await body(c));
    return c.json(r, r.created ? 201 : 200);
  });
  app.openapi(defineRoute({ method: 'get', path: '/workloads/{name}', operationId: 'getMeshWorkload', summary: 'One workload', errors: [400, 404], request: { params: nameParam }, responses: { 200: ok('the workload') } }), async (c) => c.json(await svc.get(c.req.param('name')), 200));
  app.openapi(defineRoute({ method: 'delete', path: '/workloads/{name}', operationId: 'deleteMeshWorkload', summary: 'Delete a workload', errors: [400, 404], request: { params: nameParam }, responses: { 204: { description: 'deleted' } } }), async (c) => {
    await svc.remove(c.req.param('name'));
    return c.body(null, 204);
  });
  app.openapi(defineRoute({ method: 'post', path: '/workloads/{name}/start', operationId: 'startMeshWorkload', summary: 'Want a workload running', errors: [400, 404], request: { params: nameParam }, responses: { 200: ok('the workload') } }), async (c) => c.json(await svc.setDesired(c.req.param('name'), 'running'), 200));
  app.openapi(defineRoute({ method: 'post', path: '/workloads/{name}/stop', operationId: 'stopMeshWorkload', summary: 'Want a workload stopped', errors: [400, 404], request: { params: nameParam }, responses: { 200: ok('the workload') } }), async (c) => c.json(await svc.setDesired(c.req.param('name'), 'stopped'), 200));
  app.openapi(defineRoute({ method: 'post', path: '/workloads/{name}/fence', operationId: 'fenceMeshWorkload', summary: "Fence a workload's current holder", errors: [400, 404], request: { params: nameParam }, responses: { 200: ok('whether it was fenced') } }), async (c) => c.json({ workload: c.req.param('name'), fenced: await svc.fence(c.req.param('name')) }, 200));
  app.openapi(defineRoute({ method: 'post', path: '/workloads/{name}/move', operationId: 'moveMeshWorkload', summary: 'Move a workload to another node', errors: [400, 404, 409], request: { params: nameParam, body: documentedBody(moveBody, { required: true }) }, responses: { 200: ok('the workload') } }), async (c: Context<AppEnv>) => {
    const parsed = moveBody.safeParse(await body(c));
    if (!parsed.success) throw new Invalid('invalid request body', zodIssues(parsed.error, 'body'));
    return c.json(await svc.move(c.req.param('name')!, parsed.data.to), 200);
  });
  app.openapi(defineRoute({ method: 'get', path: '/nodes', operationId: 'listMeshNodes', summary: 'Every node of the mesh', responses: { 200: ok('the nodes') } }), async (c) => c.json({ items: await svc.nodes() }, 200));
  const nodeSummary = { cordon: 'Place no new workloads on a node', uncordon: 'Place workloads on a node again', drain: 'Move every workload off a node' } as const;
  for (const action of ['cordon', 'uncordon', 'drain'] as const) {
    const opId = `${action}MeshNode`;
    app.openapi(defineRoute({ method: 'post', path: `/nodes/{id}/${action}`, operationId: opId, summary: nodeSummary[action], errors: [400, 404], request: { params: z.object({ id: z.string().min(1) }) }, responses: { 200: ok('the node') } }), async (c: Context<AppEnv>) =>
      c.json({ node: c.req.param('id'), ...(await svc.setNode(c.req.param('id')!, action)) }, 200),
    );
  }
  app.openapi(defineRoute({ method: 'get', path: '/leases', operationId: 'listMeshLeases', summary: 'The leases workloads hold, with fencing tokens', responses: { 200: ok('the leases') } }), async (c) => c.json({ items: await svc.leases() }, 200));
  return app;
}
