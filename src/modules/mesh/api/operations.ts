/**
 * The mesh API's operations, declared once: the router registers them (routes.ts), the OpenAPI document is made from
 * them, and the CLI calls them typed (cli.ts), so the three cannot disagree.
 */
import * as z from 'zod';
import { defineRoute, documentedBody } from '../../../kernel/index.ts';
import { nodeIdSchema } from '../model/workload.ts';

/** The body of a move (parsed by the handler: an empty body means {}). */
export const moveBody = z.strictObject({ to: nodeIdSchema });
const nameParam = z.object({ name: z.string().min(1) });
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });
// Generic, so each answer keeps its schema's type for the typed client.
const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });

// The answers the CLI reads, stated as far as it reads them (passthrough: the server may say more).
const nodesAnswer = z.object({ items: z.array(z.object({ labels: z.record(z.string(), z.string()) }).passthrough()) });
const workloadsAnswer = z.object({
  items: z.array(
    z
      .object({
        workload: z.object({ spec: z.object({ name: z.string(), topology: z.object({ kind: z.string() }).passthrough() }).passthrough(), desired: z.string() }).passthrough(),
        assignment: z.object({ error: z.string().optional() }).passthrough().nullish(),
        slots: z.array(z.object({ slot: z.number(), node: z.string(), token: z.number(), state: z.string() }).passthrough()),
      })
      .passthrough(),
  ),
});
const applyAnswer = z
  .object({ created: z.boolean(), placement: z.object({ satisfiable: z.boolean(), error: z.string().optional() }).passthrough(), workload: z.object({ spec: z.object({ name: z.string() }).passthrough() }).passthrough() })
  .passthrough();
const leasesAnswer = z.object({ items: z.array(z.record(z.string(), z.unknown())) });

/** cordon, uncordon and drain: one route per action on a node. */
function nodeRoute<A extends 'cordon' | 'uncordon' | 'drain'>(action: A, summary: string) {
  return defineRoute({ method: 'post', path: `/nodes/{id}/${action}` as `/nodes/{id}/${A}`, operationId: `${action}MeshNode` as `${A}MeshNode`, summary, errors: [400, 404], request: { params: z.object({ id: z.string().min(1) }) }, responses: { 200: ok('the node') } });
}

/** Every operation of /api/v1/mesh, by operationId. Bodies are described here and parsed by the handlers. */
export const ops = {
  listMeshWorkloads: defineRoute({ method: 'get', path: '/workloads', operationId: 'listMeshWorkloads', summary: 'Every workload with its placement', responses: { 200: json(workloadsAnswer, 'the workloads') } }),
  applyMeshWorkload: defineRoute({ method: 'post', path: '/workloads', operationId: 'applyMeshWorkload', summary: 'Create or update a workload', errors: [400, 409], request: { body: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } }, responses: { 200: json(applyAnswer, 'updated'), 201: json(applyAnswer, 'created') } }),
  getMeshWorkload: defineRoute({ method: 'get', path: '/workloads/{name}', operationId: 'getMeshWorkload', summary: 'One workload', errors: [400, 404], request: { params: nameParam }, responses: { 200: ok('the workload') } }),
  deleteMeshWorkload: defineRoute({ method: 'delete', path: '/workloads/{name}', operationId: 'deleteMeshWorkload', summary: 'Delete a workload', errors: [400, 404], request: { params: nameParam }, responses: { 204: { description: 'deleted' } } }),
  startMeshWorkload: defineRoute({ method: 'post', path: '/workloads/{name}/start', operationId: 'startMeshWorkload', summary: 'Want a workload running', errors: [400, 404], request: { params: nameParam }, responses: { 200: ok('the workload') } }),
  stopMeshWorkload: defineRoute({ method: 'post', path: '/workloads/{name}/stop', operationId: 'stopMeshWorkload', summary: 'Want a workload stopped', errors: [400, 404], request: { params: nameParam }, responses: { 200: ok('the workload') } }),
  fenceMeshWorkload: defineRoute({ method: 'post', path: '/workloads/{name}/fence', operationId: 'fenceMeshWorkload', summary: "Fence a workload's current holder", errors: [400, 404], request: { params: nameParam }, responses: { 200: ok('whether it was fenced') } }),
  moveMeshWorkload: defineRoute({ method: 'post', path: '/workloads/{name}/move', operationId: 'moveMeshWorkload', summary: 'Move a workload to another node', errors: [400, 404, 409], request: { params: nameParam, body: documentedBody(moveBody, { required: true }) }, responses: { 200: ok('the workload') } }),
  listMeshNodes: defineRoute({ method: 'get', path: '/nodes', operationId: 'listMeshNodes', summary: 'Every node of the mesh', responses: { 200: json(nodesAnswer, 'the nodes') } }),
  cordonMeshNode: nodeRoute('cordon', 'Place no new workloads on a node'),
  uncordonMeshNode: nodeRoute('uncordon', 'Place workloads on a node again'),
  drainMeshNode: nodeRoute('drain', 'Move every workload off a node'),
  listMeshLeases: defineRoute({ method: 'get', path: '/leases', operationId: 'listMeshLeases', summary: 'The leases workloads hold, with fencing tokens', responses: { 200: json(leasesAnswer, 'the leases') } }),
};
