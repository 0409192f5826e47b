/**
 * The mesh workload of the PostgreSQL example: run by `capstan agent` (under `setpriv --pdeathsig KILL`) on the node
 * that holds the slot. It makes this node's cluster the writable primary:
 *
 * - a standby started outside the mesh on this data directory is stopped first (only the holder may run a server
 *   that could become writable), then the server is started as this process's child; if the directory is a standby
 *   (`standby.signal`), `pg_ctl promote` makes it the primary.
 * - The server must not outlive this process (an orphaned primary is a second writable primary). PostgreSQL refuses
 *   to run as root and a parent-death signal does not survive the change of user, so the server runs under a small
 *   `sh` (as the `postgres` user) that holds the read end of a pipe from this process: when this process dies, even
 *   by SIGKILL, the pipe closes and the shell SIGKILLs the postmaster.
 * - SIGTERM (the agent stopping the replica: drain, renew deadline) is a fast shutdown (SIGINT to the postmaster).
 * - GET / on $HEALTH_PORT answers 200 only while the server accepts writes (not in recovery): the agent's health check.
 *
 * Env: PGDATA, PGPORT, PGSOCKET (unix socket dir), PGBIN, HEALTH_PORT, plus CAPSTAN_FENCING_TOKEN from the agent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';

const dataDir = process.env.PGDATA!;
const port = Number(process.env.PGPORT);
const socketDir = process.env.PGSOCKET ?? '/tmp';
const bin = process.env.PGBIN!;
const token = process.env.CAPSTAN_FENCING_TOKEN;
const log = (msg: string) => process.stderr.write(`[pg-role ${process.env.CAPSTAN_NODE_ID} token ${token}] ${new Date().toISOString()} ${msg}\n`);
const asPostgres = (args: string[]) => spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });

function postmasterPid(): number | undefined {
  const f = join(dataDir, 'postmaster.pid');
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

// A standby left running from outside: stop it, so that the only server on this directory is our child.
if (postmasterPid()) {
  log('stopping the standby server running outside the mesh');
  asPostgres([join(bin, 'pg_ctl'), 'stop', '-D', dataDir, '-m', 'fast', '-w']);
}

// fd 3 of the shell is the pipe from us; EOF on it means we are gone.
const script = `exec 3<&0; "$0" "$@" </dev/null & p=$!; (read _ <&3; kill -KILL $p 2>/dev/null) & w=$!; wait $p; rc=$?; kill $w 2>/dev/null; exit $rc`;
const server = spawn('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', 'sh', '-c', script, join(bin, 'postgres'), '-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'], { stdio: ['pipe', 'inherit', 'inherit'] });
server.once('exit', (code, signal) => {
  log(`server exited (${code ?? signal})`);
  process.exit(code === 0 ? 0 : 1);
});

const sql = postgres({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 1, connect_timeout: 2, onnotice: () => {} });
let writable = false;
for (;;) {
  try {
    const [r] = await sql`select pg_is_in_recovery() as standby`;
    if (r!.standby) {
      log('promoting');
      asPostgres([join(bin, 'pg_ctl'), 'promote', '-D', dataDir, '-w']);
      continue;
    }
    writable = true;
    log('writable primary');
    break;
  } catch {
    await Bun.sleep(100);
  }
}

Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.HEALTH_PORT),
  async fetch() {
    try {
      const [r] = await sql`select pg_is_in_recovery() as standby`;
      return new Response(writable && !r!.standby ? 'primary\n' : 'standby\n', { status: writable && !r!.standby ? 200 : 503 });
    } catch {
      return new Response('down\n', { status: 503 });
    }
  },
});

process.on('SIGTERM', () => {
  log('SIGTERM: fast shutdown');
  const pid = postmasterPid();
  if (pid) process.kill(pid, 'SIGINT');
});
