/**
 * A stand-in for the two Kubernetes API calls the breeder makes (no cluster runs on these machines): JSON merge
 * patch of a Deployment and GET of it, with a bearer token. A patch that changes the spec starts a rollout that
 * advances one step per GET of the object (observe the generation, update one replica at a time, make them
 * available), so only a caller that polls until the rollout is done sees the new pods. `GET /app/<name>` is the
 * application behind a deployment: it reports a value computed from the template of the last finished rollout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What the application reports for a deployment's live spec. */
export type AppValue = (live: { replicas: number; annotations: Record<string, string> }) => number;

/** One request the stand-in answered. */
export interface SeenRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  status: number;
}

interface Deployment {
  generation: number;
  observedGeneration: number;
  replicas: number;
  annotations: Record<string, string>;
  updated: number;
  total: number;
  available: number;
  live: { replicas: number; annotations: Record<string, string> };
  /** Rollouts of this one never progress past observing the generation. */
  stuck: boolean;
}

/** A running stand-in. */
export interface KubeApiStandIn {
  url: string;
  seen: SeenRequest[];
  /** Adds a deployment `namespace/name` with `replicas` ready replicas and no annotations. */
  addDeployment(namespace: string, name: string, replicas: number, opts?: { stuck?: boolean }): void;
  stop(): Promise<void>;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function view(ns: string, name: string, d: Deployment) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { namespace: ns, name, generation: d.generation },
    spec: { replicas: d.replicas, template: { metadata: { annotations: d.annotations } } },
    status: { observedGeneration: d.observedGeneration, replicas: d.total, updatedReplicas: d.updated, readyReplicas: d.available, availableReplicas: d.available },
  };
}

/** One rollout step, as a controller would make between two looks at the object. */
function advance(d: Deployment): void {
  if (d.observedGeneration < d.generation) {
    d.observedGeneration = d.generation;
    return;
  }
  if (d.stuck) return;
  if (d.updated < d.replicas) {
    d.updated++;
    d.total = Math.max(d.total, d.updated);
  } else if (d.total > d.replicas) d.total = d.replicas;
  else if (d.available < d.updated) d.available = d.updated;
  if (d.updated === d.replicas && d.total === d.replicas && d.available === d.replicas) d.live = { replicas: d.replicas, annotations: { ...d.annotations } };
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

/** Starts the stand-in on a free loopback port; requests must carry `Bearer <token>`. */
export async function startKubeApiStandIn(token: string, appValue: AppValue): Promise<KubeApiStandIn> {
  const deployments = new Map<string, Deployment>();
  const seen: SeenRequest[] = [];
  const status = (res: ServerResponse, code: number, message: string) => {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code }));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const app = /^\/app\/([^/]+)\/([^/]+)$/.exec(path);
    if (app && req.method === 'GET') {
      const d = deployments.get(`${app[1]}/${app[2]}`);
      if (!d) return status(res, 404, 'no such app');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: appValue(d.live), live: d.live }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) return status(res, 401, 'Unauthorized');
    const m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(path);
    const d = m ? deployments.get(`${m[1]}/${m[2]}`) : undefined;
    if (!m || !d) return status(res, 404, `the server could not find the requested resource ${path}`);
    if (req.method === 'GET') {
      advance(d);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view(m[1]!, m[2]!, d)));
      return;
    }
    if (req.method !== 'PATCH') return status(res, 405, 'method not allowed');
    if (req.headers['content-type'] !== 'application/merge-patch+json') return status(res, 415, `unsupported patch type ${req.headers['content-type']}`);
    let patch: unknown;
    try {
      patch = JSON.parse(await body(req));
    } catch {
      return status(res, 400, 'the patch is not JSON');
    }
    const before = view(m[1]!, m[2]!, d);
    const after = mergePatch(before, patch) as ReturnType<typeof view>;
    const replicas = after.spec?.replicas;
    const annotations = after.spec?.template?.metadata?.annotations ?? {};
    // The real API server validates the merged object the same way.
    if (!Number.isInteger(replicas) || replicas < 0) return status(res, 422, 'spec.replicas: must be a non-negative integer');
    for (const [k, v] of Object.entries(annotations)) if (typeof v !== 'string') return status(res, 422, `metadata.annotations.${k}: must be a string`);
    if (JSON.stringify(after.spec) !== JSON.stringify(before.spec)) {
      d.generation++;
      d.replicas = replicas;
      d.annotations = annotations;
      d.updated = 0;
      d.available = 0;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view(m[1]!, m[2]!, d)));
  };
  const server: Server = createServer((req, res) => {
    handle(req, res)
      .catch((err: Error) => status(res, 500, err.message))
      .finally(() => seen.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname, contentType: req.headers['content-type'], authorization: req.headers.authorization, status: res.statusCode }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    addDeployment(namespace, name, replicas, opts = {}) {
      const live = { replicas, annotations: {} };
      deployments.set(`${namespace}/${name}`, { generation: 1, observedGeneration: 1, replicas, annotations: {}, updated: replicas, total: replicas, available: replicas, live, stuck: opts.stuck ?? false });
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
