/** The HTTP client that `capstan <module> ...` commands use to talk to a server (--server / CAPSTAN_SERVER, CAPSTAN_TOKEN). */

/** A failed request, carrying the server's problem+json so the CLI can print it. */
export class ClientError extends Error {
  constructor(readonly status: number, readonly problem: Record<string, unknown> | undefined, message: string) {
    super(message);
  }
}

/** Where to reach the server and with which token. */
export interface ClientOptions {
  server?: string;
  token?: string;
}

/** Resolves the server URL and token from flags, then environment, then the local default. */
export function clientOptions(flags: { server?: string; token?: string }, env = process.env): Required<Pick<ClientOptions, 'server'>> & ClientOptions {
  return { server: flags.server ?? env.CAPSTAN_SERVER ?? 'http://127.0.0.1:7070', token: flags.token ?? env.CAPSTAN_TOKEN };
}

/** Sends one JSON request and returns the parsed body; non-2xx becomes a ClientError with the problem's detail. */
export async function request<T = unknown>(opts: ClientOptions & { server: string }, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.server), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ClientError(0, undefined, `cannot reach ${opts.server}: ${(err as Error).message} (set --server or CAPSTAN_SERVER)`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const problem = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    const errors = Array.isArray(problem?.errors) ? (problem!.errors as { path: string; message: string }[]).map((e) => `\n  ${e.path}: ${e.message}`).join('') : '';
    throw new ClientError(res.status, problem, `${res.status} ${String(problem?.detail ?? res.statusText)}${errors}`);
  }
  return parsed as T;
}
