/**
 * A real OpenSSH server (Debian's openssh-server) as a child process on a free loopback port, with a host key and
 * a client key generated for the test: key authentication only, for the user running the test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from './child-services.ts';
import { tempDir } from './server-process.ts';

/** Where Debian puts the server, if it is installed. */
export const SSHD_BIN = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((p) => existsSync(p));

/** A running sshd and the keys to reach it. */
export interface SshdProcess {
  port: number;
  user: string;
  /** The server's public host key line (`ssh-ed25519 AAAA... comment`). */
  hostKey: string;
  /** A public key line that is not the server's (for a mismatch test). */
  otherHostKey: string;
  /** The client's private key (OpenSSH format), authorised for `user`. */
  clientKey: string;
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'capstan-test', '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr?.toString()}`);
}

/** The login name of this process's user (Bun's os.userInfo answers 'unknown' when USER is unset). */
function currentUser(): string {
  const r = spawnSync('id', ['-un']);
  if (r.status !== 0) throw new Error(`id -un failed: ${r.stderr?.toString()}`);
  return r.stdout.toString().trim();
}

/** Starts sshd on 127.0.0.1:<free port>; throws when it is not installed or does not come up. */
export async function startSshd(): Promise<SshdProcess> {
  if (!SSHD_BIN) throw new Error('sshd is not installed (Debian package openssh-server; scripts/ensure-services.sh installs it)');
  const dir = tempDir('capstan-sshd-');
  for (const k of ['host_key', 'other_host_key', 'client_key']) keygen(join(dir, k));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    // The temp folder is not owned the way StrictModes wants; the keys are the test's own.
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  // As root, sshd wants its privilege separation folder.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  let out = '';
  const child = spawn(SSHD_BIN, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    await waitForPort(port);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`sshd did not start: ${(err as Error).message}\n${out}`);
  }
  return {
    port,
    user: currentUser(),
    hostKey: readFileSync(join(dir, 'host_key.pub'), 'utf8').trim(),
    otherHostKey: readFileSync(join(dir, 'other_host_key.pub'), 'utf8').trim(),
    clientKey: readFileSync(join(dir, 'client_key'), 'utf8'),
    dir,
    output: () => out,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
