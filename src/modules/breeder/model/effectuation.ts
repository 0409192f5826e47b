/**
 * How parameters reach the target, as a definition declares it: http, a local command, a command over SSH, or a
 * merge patch of a Kubernetes object. Exactly one kind per breeder; every template is checked at parse time.
 */
import * as z from 'zod';
import { DurationText } from './source.ts';

/** Credential names (same rule as breeder names). */
export const CREDENTIAL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Effectuation over HTTP: the body and URL are templates over `params`, `trial` and `breeder`. Either a `url` (with
 * an optional `credential`) or a stored http `target` (/targets), whose URL and credential apply, with `path`
 * appended to the target's URL.
 */
export const HttpEffectuation = z
  .strictObject({
    /** A stored http target: its url and credential instead of the two fields here. */
    target: z.string().regex(CREDENTIAL_NAME).optional(),
    /** With a target: what follows the target's URL (`/apply`, `/apply?trial={{ trial.number }}`); a template. */
    path: z.string().max(2000).optional(),
    url: z.string().min(1).max(2000).optional(),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    /** A stored credential (api_token or basic_auth) sent as the Authorization header. */
    credential: z.string().regex(CREDENTIAL_NAME).optional(),
    timeout: DurationText.default('30s'),
    /** Extra attempts after a failed call (network error, 429, 5xx). */
    retries: z.number().int().min(0).max(10).default(0),
  })
  .superRefine((h, ctx) => {
    if (h.target) {
      for (const k of ['url', 'credential'] as const) if (h[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `the target '${h.target}' gives it; name either a target or a url` });
      // Anything but a path or a query could change the host the target names ('@other', ':port').
      if (h.path !== undefined && !/^[/?]/.test(h.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: "starts with '/' or '?' (it is appended to the target's URL)" });
      return;
    }
    if (h.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'required without a target' });
    if (h.path !== undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'only with a target (a url holds its own path)' });
  });

/** Effectuation by running a program: argv only (never a shell); each argument is a template. */
export const CommandEffectuation = z.strictObject({
  argv: z.array(z.string().max(4000)).min(1).max(200),
  timeout: DurationText.default('60s'),
  retries: z.number().int().min(0).max(10).default(0),
});

/**
 * A host name or address the ssh client takes as its destination. A leading '-' would make it an option, and
 * '@' or whitespace another destination, so both are refused.
 */
export const SSH_HOST = /^(?:[a-zA-Z0-9_](?:[a-zA-Z0-9_.-]{0,252})|\[[0-9a-fA-F:.]+\])$/;
/** A POSIX user name. */
export const SSH_USER = /^[a-zA-Z_][a-zA-Z0-9_.-]{0,31}$/;
/** One public key line as in known_hosts or a .pub file: type, base64 key, optional comment. */
export const HOST_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/=]{16,8192}( [^\n]*)?$/;

/**
 * Effectuation by running argv on another machine over SSH (the system's OpenSSH client, key auth only). Each
 * argument is a template rendered to one literal word on the remote side; the parameters also arrive as
 * CAPSTAN_PARAM_* variables and, on stdin, as `{params, trial}` JSON.
 */
export const SshEffectuation = z
  .strictObject({
    /** A stored ssh target (/targets) that gives host, port, user, credential and host key instead of the fields below. */
    target: z.string().regex(CREDENTIAL_NAME).optional(),
    host: z.string().regex(SSH_HOST, 'a host name or an address ([::1] for IPv6); no leading -').optional(),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().regex(SSH_USER, 'a user name: letters, digits, _ . -, not starting with - or a digit').optional(),
    /** A stored credential of kind ssh_key. */
    credential: z.string().regex(CREDENTIAL_NAME).optional(),
    /** The server's public host key (`ssh-ed25519 AAAA...`, as in its .pub file); the connection is refused unless it matches. */
    host_key: z.string().trim().regex(HOST_KEY, "one public key line such as 'ssh-ed25519 AAAA...'").optional(),
    /** false accepts any host key (a lab without known keys); the default refuses to connect without host_key. */
    host_key_check: z.boolean().default(true),
    argv: z.array(z.string().max(4000)).min(1).max(200),
    timeout: DurationText.default('60s'),
    /** Extra attempts after a failed command (a connection error or a non-zero exit). */
    retries: z.number().int().min(0).max(10).default(0),
  })
  .superRefine((s, ctx) => {
    if (s.target) {
      for (const k of ['host', 'user', 'credential', 'host_key'] as const) if (s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `the target '${s.target}' gives it; name either a target or the connection` });
      return;
    }
    for (const k of ['host', 'user', 'credential'] as const) if (s[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'required without a target' });
    if (s.host_key_check && !s.host_key) ctx.addIssue({ code: 'custom', path: ['host_key'], message: 'required unless host_key_check is false: the server must prove who it is' });
  });

/** The kinds of Kubernetes objects a breeder may patch, with their API group path and plural resource. */
export const KUBERNETES_KINDS = {
  Deployment: { api: 'apis/apps/v1', plural: 'deployments' },
  StatefulSet: { api: 'apis/apps/v1', plural: 'statefulsets' },
  DaemonSet: { api: 'apis/apps/v1', plural: 'daemonsets' },
  ConfigMap: { api: 'api/v1', plural: 'configmaps' },
} as const;

/** A Kubernetes object name or namespace (DNS-1123 subdomain). */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Effectuation through the Kubernetes API: a JSON merge patch (a template) of one named object, then, for
 * workloads, a wait until the rollout is done (observed generation caught up, every replica updated and ready).
 */
export const KubernetesEffectuation = z.strictObject({
  /** The API server, e.g. https://10.0.0.1:6443. */
  api_url: z.url({ protocol: /^https?$/ }).max(2000),
  /** A stored api_token credential (a service account token) sent as the bearer token. */
  credential: z.string().regex(CREDENTIAL_NAME).optional(),
  namespace: z.string().regex(K8S_NAME, 'a Kubernetes namespace name'),
  kind: z.enum(Object.keys(KUBERNETES_KINDS) as [keyof typeof KUBERNETES_KINDS, ...(keyof typeof KUBERNETES_KINDS)[]]),
  name: z.string().regex(K8S_NAME, 'a Kubernetes object name'),
  /** The merge patch (RFC 7386): a JSON object whose strings are templates. */
  patch: z.record(z.string(), z.unknown()),
  /** How long the patch and the rollout together may take before the trial fails. */
  timeout: DurationText.default('5m'),
  /** How often the rollout is checked. */
  poll_interval: DurationText.default('2s'),
  retries: z.number().int().min(0).max(10).default(0),
});

/** How parameters reach the target: exactly one kind. */
export const EffectuationSchema = z
  .strictObject({ http: HttpEffectuation.optional(), command: CommandEffectuation.optional(), ssh: SshEffectuation.optional(), kubernetes: KubernetesEffectuation.optional() })
  .refine((e) => [e.http, e.command, e.ssh, e.kubernetes].filter(Boolean).length === 1, { message: 'name exactly one effectuation kind: http, command, ssh or kubernetes' });

/** A parsed effectuation. */
export type Effectuation = z.output<typeof EffectuationSchema>;

/** The templated parts of an effectuation and the field path they live under. */
export function effectuationTemplate(e: Effectuation): { template: unknown; path: string } {
  if (e.http) return { template: { url: e.http.url, path: e.http.path, headers: e.http.headers, body: e.http.body }, path: 'effectuation.http' };
  if (e.command) return { template: { argv: e.command.argv }, path: 'effectuation.command' };
  if (e.ssh) return { template: { argv: e.ssh.argv }, path: 'effectuation.ssh' };
  return { template: { patch: e.kubernetes!.patch }, path: 'effectuation.kubernetes' };
}
