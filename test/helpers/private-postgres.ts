/**
 * A private PostgreSQL cluster that a test runs as a child process on a free loopback port, so it may stop,
 * crash and restart it without touching the shared server on 5432 that every other test file uses.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { freePort } from './child-services.ts';

/** How the server is stopped: `fast` (SIGINT) rolls back and checkpoints; `immediate` (SIGQUIT) is a crash, recovered from WAL at the next start. */
export type StopMode = 'smart' | 'fast' | 'immediate';
const SIGNALS: Record<StopMode, NodeJS.Signals> = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' };

/** A running (or stopped) private cluster. */
export interface PrivatePostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:PORT/DATABASE (trust auth). */
  url: string;
  /** Starts the server and resolves once it answers queries (after crash recovery, if any). */
  start(): Promise<void>;
  /** Stops the server and resolves once the postmaster has exited. */
  stop(opts?: { mode?: StopMode }): Promise<void>;
  /** Stop, stay down for `downMs`, start. */
  restart(opts?: { mode?: StopMode; downMs?: number }): Promise<void>;
  /** True while the postmaster process is alive. */
  running(): boolean;
  /** Everything the server logged so far, across restarts (for failure messages). */
  output(): string;
  /** Stops the server (immediate) and removes its data directory. */
  destroy(): Promise<void>;
}

/** The folder with initdb and postgres: the newest /usr/lib/postgresql/N/bin, else /usr/local/bin, else PATH. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/postgres'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions[0]) return join(root, versions[0], 'bin');
  return existsSync('/usr/local/bin/postgres') ? '/usr/local/bin' : '';
}

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` OS user (setpriv execs, so the pid is the server's). */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]];
}

function osUser(name: string): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', name]).toString()), gid: Number(execFileSync('id', ['-g', name]).toString()) };
}

/**
 * Watches the test process from outside: if it dies without cleaning up (even by SIGKILL, when no 'exit'
 * handler runs), this crashes the server recorded in postmaster.pid (if that pid is still our postgres) and removes the directory.
 */
function startWatchdog(dir: string, dataDir: string): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; pid=$(head -1 "${dataDir}/postmaster.pid" 2>/dev/null); [ -n "$pid" ] && grep -qa "${dataDir}" "/proc/$pid/cmdline" 2>/dev/null && kill -QUIT "$pid"; sleep 2; rm -rf "${dir}"`;
  const w = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  w.unref();
  return w;
}

/**
 * Runs initdb in a fresh temp dir (owned by `postgres` when we are root), starts the server and creates `database`.
 * With `replicaOf`, copies that running cluster with pg_basebackup instead (-R: a streaming standby of it) and starts
 * it read-only on its own port.
 */
export async function startPrivatePostgres(opts: { database?: string; replicaOf?: PrivatePostgres } = {}): Promise<PrivatePostgres> {
  const database = opts.database ?? 'capstan';
  const bin = binDir();
  const exe = (name: string) => (bin ? join(bin, name) : name);
  const dir = mkdtempSync(join(tmpdir(), 'capstan-private-pg-'));
  if (process.getuid?.() === 0) {
    const { uid, gid } = osUser('postgres');
    chownSync(dir, uid, gid);
  }
  const dataDir = join(dir, 'data');
  const [initCmd, initArgs] = opts.replicaOf
    ? asServerUser(exe('pg_basebackup'), ['-h', '127.0.0.1', '-p', String(opts.replicaOf.port), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '--no-sync', '-c', 'fast'])
    : asServerUser(exe('initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions']);
  try {
    execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`${opts.replicaOf ? 'pg_basebackup' : 'initdb'} failed: ${e.stderr?.toString() || e.message}`);
  }

  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/${database}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  // Last resort if the test process exits without destroy(): crash the server, drop its files.
  const onExit = () => {
    if (alive()) child!.kill('SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  const watchdog = startWatchdog(dir, dataDir);

  /** Waits until the server answers a query on `db`; throws at once if the postmaster exits. */
  async function waitReady(db: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!alive()) throw new Error(`private PostgreSQL exited during start:\n${log.slice(-4000)}`);
      const sql = postgres(`postgres://postgres@127.0.0.1:${port}/${db}`, { max: 1, connect_timeout: 2, onnotice: () => {} });
      try {
        await sql`SELECT 1`;
        return;
      } catch (err) {
        // "the database system is starting up" (57P03) or a refused connection: not yet.
        if (Date.now() > deadline) throw new Error(`private PostgreSQL did not answer within ${timeoutMs} ms: ${(err as Error).message}\n${log.slice(-4000)}`);
      } finally {
        await sql.end({ timeout: 0 }).catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const pg: PrivatePostgres = {
    port,
    url,
    async start() {
      if (alive()) return;
      const [cmd, args] = asServerUser(exe('postgres'), ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200']);
      const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      child = c;
      exited = new Promise((r) => c.once('exit', () => r()));
      await waitReady('postgres');
    },
    async stop({ mode = 'fast' } = {}) {
      if (!alive()) return;
      child!.kill(SIGNALS[mode]);
      await exited;
    },
    async restart({ mode = 'fast', downMs = 0 } = {}) {
      await pg.stop({ mode });
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await pg.start();
    },
    running: alive,
    output: () => log,
    async destroy() {
      await pg.stop({ mode: 'immediate' });
      process.off('exit', onExit);
      watchdog.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await pg.start();
    // A standby has the primary's databases already (and refuses writes).
    if (opts.replicaOf) return pg;
    const admin = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE "${database}"`);
    await admin.end();
  } catch (err) {
    await pg.destroy();
    throw err;
  }
  return pg;
}
