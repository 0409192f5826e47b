/** Private Redis and NATS servers run by a test as child processes on free loopback ports, so the test may kill and restart them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';

/** Finds a server binary in the sbin/bin folders Debian uses, since sbin is not always on PATH. */
function binary(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin']) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  return name;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A restartable child server. */
export interface ChildService {
  port: number;
  url: string;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function childService(port: number, url: string, cmd: string, args: string[]): ChildService {
  let child: ChildProcess | undefined;
  return {
    port,
    url,
    async start() {
      child = spawn(cmd, args, { stdio: 'ignore' });
      await waitForPort(port);
    },
    async kill(signal = 'SIGKILL') {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/** Redis that fsyncs every write to an append-only file, so an acknowledged write survives a kill. */
export async function childRedis(dir: string): Promise<ChildService> {
  const port = await freePort();
  return childService(port, `redis://127.0.0.1:${port}`, binary('redis-server'), ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']);
}

/** NATS with JetStream storing in `dir`, so streams survive a restart. */
export async function childNats(dir: string): Promise<ChildService> {
  const port = await freePort();
  return childService(port, `nats://127.0.0.1:${port}`, binary('nats-server'), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]);
}
