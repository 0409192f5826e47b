/** Outbound work of declarative steps: HTTP calls, kernel actions and commands (argv only, never a shell). */
import type { ActionRegistry } from '../../kernel/index.ts';
import { interpolate, interpolateText, type ActionCall, type HttpCall, type RefScope } from './definition/index.ts';

/** An error whose status says the call may work if retried (network, 429, 5xx). */
export class CallFailed extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'CallFailed';
  }
}

/** Sends an HTTP request rendered from `http` with `body` as JSON; returns the parsed JSON answer. */
export async function callHttp(http: HttpCall, scope: RefScope, body: unknown): Promise<unknown> {
  const url = interpolateText(http.url, scope);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  for (const [k, v] of Object.entries(http.headers)) headers[k] = interpolateText(v, scope);
  const signal = AbortSignal.timeout(http.timeoutMs ?? 30_000);
  let res: Response;
  try {
    res = await fetch(url, { method: http.method, headers, body: http.method === 'GET' ? undefined : JSON.stringify(body ?? null), signal });
  } catch (err) {
    throw new CallFailed(`${http.method} ${url} failed: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new CallFailed(`${http.method} ${url} answered ${res.status}: ${text.slice(0, 200)}`, res.status);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new CallFailed(`${http.method} ${url} answered with non-JSON: ${text.slice(0, 100)}`, res.status);
  }
}

/** Calls a registered kernel action with its input rendered against `scope`. */
export async function callAction(actions: ActionRegistry, action: ActionCall, scope: RefScope): Promise<unknown> {
  return actions.call(action.name, action.input === undefined ? {} : interpolate(action.input, scope));
}

/** Runs argv (rendered against `scope`) with no shell; stdout is returned; a non-zero exit throws. */
export async function runCommand(argv: string[], scope: RefScope, timeoutMs = 60_000): Promise<string> {
  const args = argv.map((a) => interpolateText(a, scope));
  const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe', timeout: timeoutMs });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new CallFailed(`command ${args[0]} exited ${code}: ${err.slice(0, 200)}`);
  return out;
}
