/**
 * The workflow the container tests run end to end: a callback moves an order to `paid`, then an http step calls a
 * shipping target in the test process (containers share the host network) whose answer moves it to `shipped`.
 */

/** The shipping target: answers every POST with `shipped` and records who asked from which instance. */
export interface ShippingTarget {
  port: number;
  calls: { runId: string; status: string }[];
  stop(): void;
}

/** Starts the shipping target on a free loopback port. */
export function startShippingTarget(): ShippingTarget {
  const calls: ShippingTarget['calls'] = [];
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = (await req.json()) as { runId: string; status: string; object: Record<string, unknown> };
      calls.push({ runId: body.runId, status: body.status });
      return Response.json({ status: 'shipped', object: { ...body.object, shippedBy: 'target' } });
    },
  });
  return { port: server.port!, calls, stop: () => server.stop(true) };
}

/** The state machine, pointing its http step at the target. */
export function orderDefinition(targetPort: number): string {
  return `
name: order
start: created
states:
  created: { callback: { to: [paid] } }
  paid:    { http: { url: "http://127.0.0.1:${targetPort}/ship", to: [shipped] } }
  shipped: {}
`;
}

/** A JSON client for one server with a bearer token. */
export function apiClient(baseUrl: string, token: string) {
  return async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; body: T }> {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

/** The auth setting for one admin token, as an environment value. */
export function tokensEnv(name: string, sha256: string): string {
  return `[{name: ${name}, sha256: "${sha256}", scopes: [admin]}]`;
}
