/**
 * Kubernetes effectuation through the API server's REST interface: a JSON merge patch of one named object with a
 * bearer token, then (for workloads) polling the object until its rollout is done, so the settle time and the
 * readings that follow see pods running the new parameters.
 */
import { callHttp, CallFailed, interpolate, isTransient, monotonicMs, parseDuration, retry, sleepUnlessAborted } from '../../../../kernel/index.ts';
import { KUBERNETES_KINDS, type KubernetesEffectuation } from '../../model/effectuation.ts';
import { rolloutProgress } from './rollout.ts';
import type * as z from 'zod';

type KubernetesSpec = z.output<typeof KubernetesEffectuation>;

/** What Kubernetes effectuation needs from the server. */
export interface KubernetesAccess {
  /** The Authorization header of an api_token credential. */
  credentialHeaders?: ((name: string) => Promise<Record<string, string>>) | undefined;
  allowHosts?: readonly string[] | undefined;
}

/** The object's REST path, e.g. /apis/apps/v1/namespaces/web/deployments/api. */
export function objectUrl(k: Pick<KubernetesSpec, 'api_url' | 'namespace' | 'kind' | 'name'>): string {
  const { api, plural } = KUBERNETES_KINDS[k.kind];
  return `${k.api_url.replace(/\/+$/, '')}/${api}/namespaces/${k.namespace}/${plural}/${k.name}`;
}

/** Patches the object and waits for its rollout; throws (failing the trial) on refusal, a stuck rollout or the timeout. */
export async function effectuateKubernetes(k: KubernetesSpec, data: Record<string, unknown>, access: KubernetesAccess, signal: AbortSignal): Promise<void> {
  const deadline = monotonicMs() + parseDuration(k.timeout);
  const remaining = () => Math.max(1, deadline - monotonicMs());
  let headers: Record<string, string> = {};
  if (k.credential) {
    if (!access.credentialHeaders) throw new Error('credentials are not configured on this server (modules.breeder.credentialKeyFile)');
    headers = await access.credentialHeaders(k.credential);
  }
  const url = objectUrl(k);
  const options = { allowHosts: access.allowHosts };
  const patch = interpolate(k.patch, data);
  await retry(() => callHttp({ method: 'PATCH', url, headers: { ...headers, 'content-type': 'application/merge-patch+json' }, body: patch, timeoutMs: remaining(), signal }, options), {
    attempts: k.retries + 1,
    retryIf: (err) => isTransient(err) || (err instanceof CallFailed && err.status === undefined),
  });
  if (k.kind === 'ConfigMap') return;
  const kind = k.kind;
  const poll = parseDuration(k.poll_interval);
  for (;;) {
    const obj = await callHttp({ method: 'GET', url, headers, timeoutMs: remaining(), signal }, options);
    const progress = rolloutProgress(kind, obj);
    if (progress.done) return;
    if ('failed' in progress) throw new Error(`rollout of ${kind} ${k.namespace}/${k.name} failed: ${progress.failed}`);
    if (monotonicMs() + poll > deadline) throw new Error(`rollout of ${kind} ${k.namespace}/${k.name} not done within ${k.timeout}: waiting for ${progress.waiting}`);
    await sleepUnlessAborted(poll, signal);
    signal.throwIfAborted();
  }
}
