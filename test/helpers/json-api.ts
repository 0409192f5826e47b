/** A small JSON client for the HTTP API, shared by tests that drive a server from outside. */

/** Sends `body` (a string as is, else JSON) to `<base><path>`; the answer's status and parsed body. */
export type JsonApi = (method: string, path: string, body?: unknown, type?: string) => Promise<{ status: number; body: any }>;

/** A JSON client for the API under `base` (e.g. `http://127.0.0.1:7070/api/v1`). */
export function jsonApi(base: string, headers: Record<string, string> = {}): JsonApi {
  return async (method, path, body, type = 'application/json') => {
    const res = await fetch(base + path, { method, headers: { ...headers, 'content-type': type }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
