/**
 * PostgreSQL primary + synchronous standby on the mesh (what Patroni does), as a runnable check:
 *
 *   bun examples/mesh-postgres/run.ts [sigkill|partition]      (needs NATS on $NATS_URL or 127.0.0.1:4222, root or postgres)
 *
 * Two clusters made with initdb/pg_basebackup as child processes on loopback ports: A (primary, with
 * `synchronous_standby_names = '*'`, so an acknowledged commit is on both) and B (a streaming standby, started outside
 * the mesh). Two agents, n1 (site a, cluster A) and n2 (site b, cluster B), run one `absolute-consistency` failover
 * workload, examples/mesh-postgres/pg-role.ts, which makes its node's cluster the writable primary. A client inserts
 * rows with increasing ids into whichever server accepts them, retrying on errors, and remembers which were
 * acknowledged. Then n1's agent is SIGKILLed (or its NATS connection black-holed): its primary dies with it (or is
 * stopped by its renew deadline), n2 takes the lease after it expires, stops its standby, restarts it under itself
 * and promotes it. The run checks that every acknowledged row is on the new primary, that no acknowledgement from A
 * came after the first from B (never two writable primaries), and from the servers' logs that B was promoted only
 * after A had stopped; it prints the failover time (fault → first acknowledged write on B).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { freePort } from '../../test/helpers/child-services.ts';
import { meshKv, putWorkload, startAgent, type AgentProcess } from '../../test/helpers/mesh.ts';
import { startTcpProxy } from '../../test/helpers/tcp-proxy.ts';

const fault = process.argv[2] === 'partition' ? 'partition' : 'sigkill';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const root = '/usr/lib/postgresql';
const bin = join(root, readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/postgres'))).sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
const dir = mkdtempSync(join(tmpdir(), 'mesh-pg-'));
chmodSync(dir, 0o755);
const id = (name: string) => Number(execFileSync('id', [name === 'u' ? '-u' : '-g', 'postgres']).toString());
chownSync(dir, id('u'), id('g'));
const asPostgres = (args: string[]) => {
  const r = spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
};
const say = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);

const [portA, portB, healthA, healthB] = [await freePort(), await freePort(), await freePort(), await freePort()];
const A = join(dir, 'a');
const B = join(dir, 'b');
const conf = (port: number, extra = '') => `port = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nwal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nlogging_collector = on\nlog_directory = 'log'\nlog_filename = 'server.log'\nlog_line_prefix = '%m [%p] '\nlog_min_messages = info\n${extra}`;

const agents: AgentProcess[] = [];
const proxy = await startTcpProxy(Number(new URL(NATS_URL).port || 4222));
const prefix = `meshpg_${Date.now().toString(36)}`;
const { store, b } = await meshKv(NATS_URL, prefix);
let failed = false;
try {
  say(`clusters in ${dir}: A on ${portA}, B on ${portB}`);
  asPostgres([join(bin, 'initdb'), '-D', A, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  appendFileSync(join(A, 'postgresql.conf'), conf(portA));
  appendFileSync(join(A, 'pg_hba.conf'), 'host replication postgres 127.0.0.1/32 trust\n');
  asPostgres([join(bin, 'pg_ctl'), 'start', '-D', A, '-w', '-l', join(dir, 'a-init.log')]);
  const setup = postgres({ host: '127.0.0.1', port: portA, user: 'postgres', database: 'postgres', max: 1, onnotice: () => {} });
  await setup`create table t (id bigint primary key, at timestamptz not null default clock_timestamp())`;
  await setup.end();
  asPostgres([join(bin, 'pg_basebackup'), '-D', B, '-h', '127.0.0.1', '-p', String(portA), '-U', 'postgres', '-R', '-X', 'stream']);
  asPostgres([join(bin, 'pg_ctl'), 'stop', '-D', A, '-m', 'fast', '-w']);
  // Only A asks for a synchronous standby: B, once promoted, has none to wait for.
  appendFileSync(join(A, 'postgresql.conf'), "synchronous_standby_names = '*'\n");
  appendFileSync(join(B, 'postgresql.conf'), `${conf(portB)}synchronous_standby_names = ''\n`);
  // B streams from A as a standby outside the mesh: the mesh runs only what may be writable.
  asPostgres([join(bin, 'pg_ctl'), 'start', '-D', B, '-w', '-l', join(dir, 'b-init.log')]);

  // n1 reaches NATS through a proxy the partition run black-holes.
  const env = (data: string, port: number, health: number) => `pgdata=${data},pgport=${port},hport=${health}`;
  agents.push(await startAgent({ node: 'n1', site: 'a', labels: env(A, portA, healthA), natsUrl: `nats://127.0.0.1:${proxy.port}`, prefix, extra: ['--history', join(dir, 'n1.jsonl')] }));
  agents.push(await startAgent({ node: 'n2', site: 'b', labels: env(B, portB, healthB), natsUrl: NATS_URL, prefix, extra: ['--history', join(dir, 'n2.jsonl')] }));
  await putWorkload(b, {
    name: 'pg',
    run: { kind: 'process', argv: [process.execPath, join(import.meta.dir, 'pg-role.ts')], cwd: join(import.meta.dir, '../..'), env: { PGDATA: '{label:pgdata}', PGPORT: '{label:pgport}', HEALTH_PORT: '{label:hport}', PGSOCKET: dir, PGBIN: bin }, health: { url: 'http://127.0.0.1:{label:hport}/', intervalMs: 100 }, restart: 'never' },
    topology: { kind: 'failover', sites: ['a', 'b'] },
    consistency: 'absolute-consistency',
  });
  const writable = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) }).catch(() => undefined))?.ok === true;
  for (let i = 0; !(await writable(healthA)); i++) {
    if (i > 1200) throw new Error('A never became the writable primary');
    await Bun.sleep(100);
  }
  say('A is the writable primary under n1');

  // The client: one connection per server, ids in order, every acknowledgement remembered with its server and time.
  const clients = { A: postgres({ host: '127.0.0.1', port: portA, user: 'postgres', database: 'postgres', max: 1, connect_timeout: 1, onnotice: () => {} }), B: postgres({ host: '127.0.0.1', port: portB, user: 'postgres', database: 'postgres', max: 1, connect_timeout: 1, onnotice: () => {} }) };
  const acked: { id: number; server: 'A' | 'B'; t: number }[] = [];
  let next = 1;
  let writing = true;
  // One writer per server, ids from one counter: an id is used once whatever happened to it. A commit on A waits
  // for B (synchronous replication) and is acknowledged only when it returns; a write that never returns (A lost
  // its standby) or fails (standby, down) is not acknowledged, and the writer moves on to the next id.
  const write = async (server: 'A' | 'B') => {
    while (writing) {
      const id = next++;
      try {
        await clients[server]`insert into t (id) values (${id})`;
        acked.push({ id, server, t: Date.now() });
      } catch {
        await Bun.sleep(20);
      }
    }
  };
  const writer = Promise.all([write('A'), write('B')]);
  for (let i = 0; acked.length < 20; i++) {
    if (i > 600) throw new Error('A acknowledged no writes (is B streaming as its synchronous standby?)');
    await Bun.sleep(100);
  }
  await Bun.sleep(3_000);

  const t0 = Date.now();
  say(`fault: ${fault} of n1 (${acked.length} rows acknowledged so far)`);
  if (fault === 'sigkill') await agents[0]!.stop('SIGKILL');
  else proxy.cut();
  for (let i = 0; !acked.some((a) => a.server === 'B'); i++) {
    if (i > 1200) throw new Error('B never acknowledged a write');
    await Bun.sleep(20);
  }
  const firstB = acked.find((a) => a.server === 'B')!;
  say(`failover: fault → first acknowledged write on B in ${firstB.t - t0} ms`);
  await Bun.sleep(2_000);
  writing = false;
  // A's writer may hang for ever on a commit waiting for its lost standby; it is not waited for.
  await Promise.race([writer, Bun.sleep(2_000)]);

  // Every acknowledged row is on the new primary.
  const rows = new Set((await clients.B`select id from t`).map((r) => Number(r.id)));
  const lost = acked.filter((a) => !rows.has(a.id));
  // No acknowledgement from A after the first from B.
  const lateA = acked.filter((a) => a.server === 'A' && a.t > firstB.t);
  // From the logs: A's last line (shutdown, or nothing after a SIGKILL) against B's promotion and its "lost the primary" line.
  const logOf = (d: string) => (existsSync(join(d, 'log/server.log')) ? readFileSync(join(d, 'log/server.log'), 'utf8') : '');
  const time = (line: string | undefined) => (line ? Date.parse(line.slice(0, 23).replace(' ', 'T') + 'Z') : NaN);
  const bLog = logOf(B).split('\n');
  const promoted = time(bLog.find((l) => /received promote request/.test(l)));
  const lostPrimary = time(bLog.find((l) => /could not receive data from WAL stream|replication terminated by primary|could not connect to the primary|terminating walreceiver/.test(l) && time(l) >= t0 - 1_000));
  const n2Start = readFileSync(join(dir, 'n2.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: number; ev: string }).find((e) => e.ev === 'start')?.t ?? NaN;
  say(`where the time went: fault → n2 took the lease and started pg-role ${n2Start - t0} ms; → B promoted ${promoted - t0} ms; → first write acknowledged by B ${firstB.t - t0} ms`);
  const aLines = logOf(A).split('\n').filter((l) => /^\d{4}-/.test(l));
  const aLast = time(aLines.at(-1));
  say(`rows acknowledged: ${acked.length} (A ${acked.filter((a) => a.server === 'A').length}, B ${acked.filter((a) => a.server === 'B').length}); on B: ${rows.size}; lost: ${lost.length}; acks from A after B's first: ${lateA.length}`);
  say(`logs: B lost its primary at ${new Date(lostPrimary).toISOString()}, was promoted at ${new Date(promoted).toISOString()}; A's last log line at ${new Date(aLast).toISOString()}`);
  // With a SIGKILL, A logs nothing more: B losing its stream from A dates A's end. After a partition A logs its shutdown.
  const aGone = fault === 'sigkill' ? lostPrimary : aLast;
  if (lost.length > 0 || lateA.length > 0 || !(promoted > aGone)) {
    failed = true;
    say('FAILED: an acknowledged row was lost, two primaries accepted writes, or B was promoted before it lost A');
  } else say('OK: no acknowledged row lost, one writable primary at a time');
  await Promise.race([Promise.all([clients.A.end({ timeout: 1 }), clients.B.end({ timeout: 1 })]), Bun.sleep(3_000)]);
} catch (err) {
  failed = true;
  say(`FAILED: ${(err as Error).stack ?? err}`);
} finally {
  // Heal first: a partitioned agent's graceful stop would wait on NATS.
  proxy.heal();
  await Promise.all(agents.map((a) => Promise.race([a.stop('SIGTERM'), Bun.sleep(10_000).then(() => a.stop('SIGKILL'))]).catch(() => {})));
  await proxy.close();
  for (const d of [A, B]) spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', join(bin, 'pg_ctl'), 'stop', '-D', d, '-m', 'immediate'], { stdio: 'ignore' });
  await store.destroyAll().catch(() => {});
  await store.close();
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  else say(`kept ${dir}`);
}
process.exit(failed ? 1 : 0);
