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
    const url = interpolateText(h.url, data);
    let headers = h.headers ? Object.fromEntries(Object.entries(h.headers).map(([k, v]) => [k, interpolateText(v, data)])) : undefined;
    if (h.credential) {
      if (!policy.credentialHeaders) throw new Error('credentials are not configured on this server (modules.breeder.credentialKeyFile)');
      headers = { ...headers, ...(await policy.credentialHeaders(h.credential)) };
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
