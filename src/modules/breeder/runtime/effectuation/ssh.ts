/**
 * SSH effectuation through the system's OpenSSH client: key authentication only, the host key pinned (or checking
 * turned off explicitly), no user or system ssh config read. The private key is unsealed only for the call and
 * lives in a 0600 file in a private temporary folder that is removed afterwards.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRefused, hostAllowed, interpolateText, parseDuration, parseHostAllowlist, retry, runCommand } from '../../../../kernel/index.ts';
import type { SshEffectuation } from '../../model/effectuation.ts';
import type { Params } from '../../model/space.ts';
import { paramEnv } from './param-env.ts';
import { shellCommand } from './shell-words.ts';
import type * as z from 'zod';

/** What SSH effectuation needs from the server. */
export interface SshAccess {
  /** The private key of an ssh_key credential. */
  privateKey: (credential: string) => Promise<string>;
  /** A stored ssh target's connection. */
  target?: ((name: string) => Promise<SshConnection>) | undefined;
  allowHosts?: readonly string[] | undefined;
}

type SshSpec = z.output<typeof SshEffectuation>;

/** Where and as whom to connect: from the definition or from a stored target. */
export interface SshConnection {
  host: string;
  port: number;
  user: string;
  credential: string;
  host_key?: string | undefined;
  host_key_check: boolean;
}

/** The definition's own connection fields (the schema guarantees them when no target is named). */
function ownConnection(s: SshSpec): SshConnection {
  return { host: s.host!, port: s.port, user: s.user!, credential: s.credential!, host_key: s.host_key, host_key_check: s.host_key_check };
}

/** The host as ssh and known_hosts want it: IPv6 without brackets. */
function bareHost(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** The known_hosts line that pins the host key (OpenSSH writes `[host]:port` for ports other than 22). */
export function knownHostsLine(host: string, port: number, hostKey: string): string {
  const [type, key] = hostKey.trim().split(/\s+/);
  const name = port === 22 ? bareHost(host) : `[${bareHost(host)}]:${port}`;
  return `${name} ${type} ${key}\n`;
}

/** The ssh client's argv for one remote command (options fixed here, never taken from the definition). */
export function sshArgv(s: SshConnection, timeout: string, files: { key: string; knownHosts: string | undefined }, remote: string): string[] {
  const connectSeconds = Math.max(1, Math.min(60, Math.ceil(parseDuration(timeout) / 1000)));
  const hostCheck = files.knownHosts ? ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${files.knownHosts}`] : ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
  return [
    'ssh',
    '-F', '/dev/null',
    '-i', files.key,
    '-p', String(s.port),
    '-l', s.user,
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'PasswordAuthentication=no',
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `ConnectTimeout=${connectSeconds}`,
    '-o', 'LogLevel=ERROR',
    ...hostCheck,
    '--',
    bareHost(s.host),
    remote,
  ];
}

/** Runs the definition's argv on the remote host with the parameters as words, variables and stdin JSON. */
export async function effectuateSsh(s: SshSpec, scope: { params: Params; trial: { number: number } }, data: Record<string, unknown>, access: SshAccess, signal: AbortSignal): Promise<void> {
  let conn: SshConnection;
  if (s.target) {
    if (!access.target) throw new Error('ssh targets are not available on this server');
    conn = await access.target(s.target);
  } else conn = ownConnection(s);
  if (access.allowHosts && !hostAllowed(new URL(`ssh://${conn.host}:${conn.port}`), parseHostAllowlist(access.allowHosts))) {
    throw new CallRefused(`host '${conn.host}:${conn.port}' is not in the allowed hosts (${access.allowHosts.join(', ') || 'none'})`);
  }
  const argv = s.argv.map((a) => interpolateText(a, data));
  const assignments = Object.entries(paramEnv(scope.params)).map(([k, v]) => `${k}=${v}`);
  // `env NAME=value... argv`: the variables travel inside the command, so the server needs no AcceptEnv setting.
  const remote = shellCommand(['env', ...assignments, ...argv]);
  const privateKey = await access.privateKey(conn.credential);
  const dir = mkdtempSync(join(tmpdir(), 'capstan-ssh-'));
  try {
    const key = join(dir, 'key');
    writeFileSync(key, privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`, { mode: 0o600 });
    let knownHosts: string | undefined;
    if (conn.host_key_check) {
      if (!conn.host_key) throw new Error('no host key to check the server against');
      knownHosts = join(dir, 'known_hosts');
      writeFileSync(knownHosts, knownHostsLine(conn.host, conn.port, conn.host_key), { mode: 0o600 });
    }
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir };
    const stdin = JSON.stringify({ params: scope.params, trial: scope.trial.number });
    await retry(() => runCommand(sshArgv(conn, s.timeout, { key, knownHosts }, remote), { timeoutMs: parseDuration(s.timeout), env, stdin, signal }), { attempts: s.retries + 1, retryIf: () => !signal.aborted });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
