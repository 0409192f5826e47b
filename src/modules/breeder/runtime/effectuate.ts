/**
 * Effectuation: applies a trial's parameters to the target. HTTP bodies, URLs and headers are kernel templates over
 * `params`, `trial` and `breeder`; commands run argv-only (parameters are separate arguments and CAPSTAN_PARAM_*
 * variables, never spliced into a shell string), locally or over SSH (effectuation/ssh.ts); Kubernetes objects are
 * patched and their rollout awaited (effectuation/kubernetes.ts). Failed calls are retried `retries` times.
 */
import { callHttp, CallFailed, interpolate, interpolateText, isTransient, parseDuration, retry, runCommand } from '../../../kernel/index.ts';
import type { Definition } from '../model/definition.ts';
import type { Params } from '../model/space.ts';
import { effectuateKubernetes } from './effectuation/kubernetes.ts';
import { paramEnv } from './effectuation/param-env.ts';
import { effectuateSsh, type SshConnection } from './effectuation/ssh.ts';

/** What templates see. */
export interface EffectuationScope {
  params: Params;
  trial: { number: number };
  breeder: { id: string; name: string };
}

/** Policy fixed by the module's config. */
export interface EffectuationPolicy {
  commandsEnabled: boolean;
  allowHosts?: readonly string[] | undefined;
  /** The Authorization headers of a stored credential (unsealed only here, at call time). */
  credentialHeaders?: (name: string) => Promise<Record<string, string>>;
  /** The private key of a stored ssh_key credential (unsealed only here, at call time). */
  sshKey?: (name: string) => Promise<string>;
  /** The connection of a stored ssh target. */
  sshTarget?: (name: string) => Promise<SshConnection>;
  /** The URL and credential of a stored http target. */
  httpTarget?: (name: string) => Promise<HttpTarget>;
}

/** What an http effectuation takes from a stored http target. */
export interface HttpTarget {
  url: string;
  credential?: string | undefined;
}

/**
 * The target's URL with the rendered path appended. A parameter value inside the path could still carry '@' or
 * '//' tricks, so the result must keep the target's origin: parameters never choose the host.
 */
export function targetUrl(target: HttpTarget, path: string): string {
  const base = target.url.replace(/\/+$/, '');
  const url = base + path;
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    throw new Error(`the target URL with its path is not a URL: ${url}`);
  }
  if (origin !== new URL(target.url).origin) throw new Error(`the rendered path leaves the target's origin ${new URL(target.url).origin}`);
  return url;
}

function transientCall(err: unknown): boolean {
  return isTransient(err) || (err instanceof CallFailed && err.status === undefined);
}

/** The environment of an effectuation command: PATH and HOME of the server, plus one variable per parameter. */
function commandEnv(params: Params): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...paramEnv(params) };
  if (process.env.HOME) env.HOME = process.env.HOME;
  return env;
}

/** Applies the parameters; throws when the target cannot be reached or refuses them. */
export async function effectuate(e: Definition['effectuation'], scope: EffectuationScope, policy: EffectuationPolicy, signal: AbortSignal): Promise<void> {
  const data = scope as unknown as Record<string, unknown>;
  if (e.http) {
    const h = e.http;
    let url: string;
    let credential = h.credential;
    if (h.target) {
      // Read at every trial, so a changed target applies from the next trial on (and a deleted one fails it).
      if (!policy.httpTarget) throw new Error('targets are not available on this server');
      const t = await policy.httpTarget(h.target);
      url = targetUrl(t, interpolateText(h.path ?? '', data));
      credential = t.credential;
    } else {
      url = interpolateText(h.url!, data);
    }
    let headers = h.headers ? Object.fromEntries(Object.entries(h.headers).map(([k, v]) => [k, interpolateText(v, data)])) : undefined;
    if (credential) {
      if (!policy.credentialHeaders) throw new Error('credentials are not configured on this server (modules.breeder.credentialKeyFile)');
      headers = { ...headers, ...(await policy.credentialHeaders(credential)) };
    }
    const body = h.body === undefined ? { params: scope.params, trial: scope.trial.number } : interpolate(h.body, data);
    await retry(() => callHttp({ method: h.method, url, headers, body, timeoutMs: parseDuration(h.timeout), signal }, { allowHosts: policy.allowHosts }), {
      attempts: h.retries + 1,
      retryIf: transientCall,
    });
    return;
  }
  if (e.ssh) {
    const sshKey = policy.sshKey;
    if (!sshKey) throw new Error('credentials are not configured on this server (modules.breeder.credentialKeyFile)');
    await effectuateSsh(e.ssh, scope, data, { privateKey: sshKey, target: policy.sshTarget, allowHosts: policy.allowHosts }, signal);
    return;
  }
  if (e.kubernetes) {
    await effectuateKubernetes(e.kubernetes, data, { credentialHeaders: policy.credentialHeaders, allowHosts: policy.allowHosts }, signal);
    return;
  }
  const c = e.command!;
  if (!policy.commandsEnabled) throw new Error('command effectuation is disabled (modules.breeder.commandEffectuation: false)');
  const argv = c.argv.map((a) => interpolateText(a, data));
  await retry(() => runCommand(argv, { timeoutMs: parseDuration(c.timeout), env: commandEnv(scope.params), signal }), { attempts: c.retries + 1, retryIf: () => true });
}
