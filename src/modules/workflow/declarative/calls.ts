/** Outbound work of declarative steps: templates rendered against the run, then the kernel's calls (argv only, never a shell). */
import { callHttp as kernelCallHttp, runCommand as kernelRunCommand, type ActionRegistry, type RefScope } from '../../../kernel/index.ts';
import { expressions, type ActionCall, type HttpCall } from '../definition/index.ts';

/** Sends an HTTP request rendered from `http` with `body` as JSON; returns the parsed JSON answer. */
export async function callHttp(http: HttpCall, scope: RefScope, body: unknown): Promise<unknown> {
  const url = expressions.interpolateText(http.url, scope);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(http.headers)) headers[k] = expressions.interpolateText(v, scope);
  return kernelCallHttp({ method: http.method, url, headers, body, timeoutMs: http.timeoutMs });
}

/** Calls a registered kernel action with its input rendered against `scope`. */
export async function callAction(actions: ActionRegistry, action: ActionCall, scope: RefScope): Promise<unknown> {
  return actions.call(action.name, action.input === undefined ? {} : expressions.interpolate(action.input, scope));
}

/** Runs argv (rendered against `scope`) with no shell; stdout is returned; a non-zero exit throws. */
export async function runCommand(argv: string[], scope: RefScope, timeoutMs = 60_000): Promise<string> {
  return kernelRunCommand(
    argv.map((a) => expressions.interpolateText(a, scope)),
    { timeoutMs },
  );
}
