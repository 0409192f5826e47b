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

/** A body sent as it is (a YAML or JSON file's text), with its media type. */
export interface RawBody {
  text: string;
  contentType: string;
}

/** What one request carries besides method and path. */
export interface SendOptions {
  /** A JSON value (serialised) or a raw body. */
  body?: unknown;
  raw?: RawBody;
  headers?: Record<string, string>;
}

/** Resolves the server URL and token from flags, then environment, then the local default. */
export function clientOptions(flags: { server?: string; token?: string }, env = process.env): Required<Pick<ClientOptions, 'server'>> & ClientOptions {
  return { server: flags.server ?? env.CAPSTAN_SERVER ?? 'http://127.0.0.1:7070', token: flags.token ?? env.CAPSTAN_TOKEN };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The one-line message of a failed answer: status, the problem's detail (or a plain reason) and each bad field (as `label` names it). */
export function failureMessage(status: number, statusText: string, body: unknown, label: (path: string) => string = (p) => p): string {
  const problem = isRecord(body) ? body : undefined;
  // Bun answers an oversized body with a bare 413 before the app sees it, so that status gets words of its own.
  const detail = typeof problem?.detail === 'string' ? problem.detail : status === 413 ? 'the body is larger than the server accepts' : statusText || 'request failed';
  const errors = Array.isArray(problem?.errors) ? problem.errors.filter(isRecord).map((e) => `\n  ${label(String(e.path))}: ${String(e.message)}`).join('') : '';
  return `${status} ${detail}${errors}`;
}

/** Sends one request and returns the parsed JSON body (text when not JSON); non-2xx becomes a ClientError. */
export async function send(opts: ClientOptions & { server: string }, method: string, path: string, what: SendOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', ...what.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (what.raw) {
    headers['content-type'] = what.raw.contentType;
    body = what.raw.text;
  } else if (what.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(what.body);
  }
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.server), { method, headers, body });
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
  if (!res.ok) throw new ClientError(res.status, isRecord(parsed) ? parsed : undefined, failureMessage(res.status, res.statusText, parsed));
  return parsed;
}

/** Sends one JSON request and returns the parsed body as T (untyped callers; commands use the typed `call`). */
export async function request<T = unknown>(opts: ClientOptions & { server: string }, method: string, path: string, body?: unknown): Promise<T> {
  return (await send(opts, method, path, { body })) as T;
}
