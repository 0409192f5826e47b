/**
 * `bun bench/container-sizing.ts [IMAGE]`: what one Capstan container holds, for docs/deploy.md's sizing section.
 * Runs the image (default localhost/capstan:latest, built by `bun run image:build`) embedded, then as api + worker on
 * this machine's PostgreSQL, Redis and NATS; measures memory and CPU idle and while a workflow load runs through it.
 * Memory: the capstan process's RSS (and its peak since start, VmHWM) and its cgroup's working set (usage less
 * inactive file cache, what a memory limit presses on); CPU: the cgroup's CPU time over the window, in cores.
 */
import { readFileSync } from 'node:fs';
import { hashToken } from '../src/kernel/http/auth.ts';
import { distributedEnv, IMAGE, type Role } from '../test/helpers/deployment-topology.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../test/helpers/env.ts';
import { createTestDatabase } from '../test/helpers/postgres.ts';
import { apiClient, tokensEnv } from '../test/image/order-workflow.ts';
import { Container, freePort, podman } from '../test/image/podman.ts';
import { podmanEnv } from '../scripts/image/podman.ts';

const image = process.argv[2] ?? 'localhost/capstan:latest';
Object.assign(process.env, { CAPSTAN_TEST_IMAGE: image, CONTAINERS_CONF: podmanEnv().CONTAINERS_CONF });
const TOKEN = 'sizing-token';
const STEPS = 5;
const RUNS = Number(process.env.SIZING_RUNS ?? 300);
const IDLE_S = 10;

/** Memory and CPU counters of one container, read from its cgroup (v1 or v2) and /proc. */
class Probe {
  private constructor(
    readonly name: string,
    private readonly cgroup: string,
    private readonly pid: number,
  ) {}

  static async of(c: Container): Promise<Probe> {
    const info = await c.inspect();
    const state = info.State as { Pid: number; CgroupPath: string };
    // The container's PID 1 is tini; capstan is its only child.
    const child = Number(readFileSync(`/proc/${state.Pid}/task/${state.Pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    return new Probe(c.name, state.CgroupPath, child);
  }

  private v1(ctrl: string, file: string): string | undefined {
    try {
      return readFileSync(`/sys/fs/cgroup/${ctrl}${this.cgroup}/${file}`, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** CPU time used so far, in ms. */
  cpuMs(): number {
    const v1 = this.v1('cpuacct', 'cpuacct.usage');
    if (v1) return Number(v1) / 1e6;
    const stat = readFileSync(`/sys/fs/cgroup${this.cgroup}/cpu.stat`, 'utf8');
    return Number(/usage_usec (\d+)/.exec(stat)![1]) / 1000;
  }

  /** Working set in MB: memory usage less the inactive file cache. */
  workingSetMb(): number {
    const usage = this.v1('memory', 'memory.usage_in_bytes') ?? readFileSync(`/sys/fs/cgroup${this.cgroup}/memory.current`, 'utf8');
    const stat = this.v1('memory', 'memory.stat') ?? readFileSync(`/sys/fs/cgroup${this.cgroup}/memory.stat`, 'utf8');
    const inactive = Number(/^(?:total_)?inactive_file (\d+)/m.exec(stat)?.[1] ?? 0);
    return (Number(usage) - inactive) / 1e6;
  }

  /** Resident set of the capstan process in MB. */
  rssMb(): number {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))![1]) / 1000;
  }

  /** The largest resident set the capstan process has had since it started, in MB. */
  peakRssMb(): number {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))![1]) / 1000;
  }
}

interface Figures {
  rssMb: number;
  /** Peak RSS since the process started (VmHWM). */
  peakRssMb: number;
  workingSetMb: number;
  cores: number;
}

/** Idle: counters over IDLE_S seconds with nothing asked of the instance. */
async function idle(p: Probe): Promise<Figures> {
  const cpu0 = p.cpuMs();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  return { rssMb: p.rssMb(), peakRssMb: p.peakRssMb(), workingSetMb: p.workingSetMb(), cores: (p.cpuMs() - cpu0) / (performance.now() - t0) };
}

/** A target that moves each run one step on: step1 -> step2 -> ... -> done. */
function startTarget() {
  return Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const { status } = (await req.json()) as { status: string };
      const n = Number(status.slice(4));
      return Response.json({ status: n < STEPS ? `step${n + 1}` : 'done' });
    },
  });
}

function pipelineDefinition(port: number): string {
  const states = Array.from({ length: STEPS }, (_, i) => {
    const next = i + 1 < STEPS ? `step${i + 2}` : 'done';
    return `  step${i + 1}: { http: { url: "http://127.0.0.1:${port}/next", to: [${next}] }, parallel: 4 }`;
  });
  return `name: pipeline\nstart: step1\nstates:\n${states.join('\n')}\n  done: {}\n`;
}

/** Starts RUNS runs through `api` and waits for all to finish, sampling the probes' memory; returns figures per probe and transitions/s. */
async function load(baseUrl: string, probes: Probe[]): Promise<{ figures: Figures[]; transitionsPerS: number; seconds: number }> {
  const call = apiClient(`${baseUrl}/api/v1/workflow`, TOKEN);
  const cpu0 = probes.map((p) => p.cpuMs());
  const peak = probes.map(() => ({ rss: 0, ws: 0 }));
  const sampler = setInterval(() => probes.forEach((p, i) => {
    peak[i]!.rss = Math.max(peak[i]!.rss, p.rssMb());
    peak[i]!.ws = Math.max(peak[i]!.ws, p.workingSetMb());
  }), 200);
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < RUNS; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, RUNS - i) }, (_, j) => call<{ runId: string }>('POST', '/workflows/pipeline/runs', { foreignId: `load-${i + j}` })));
    for (const r of batch) {
      if (r.status !== 201) throw new Error(`start answered ${r.status}: ${JSON.stringify(r.body)}`);
      ids.push(r.body.runId);
    }
  }
  for (const id of ids) {
    const r = await call('GET', `/runs/${id}/await?status=done&timeout=5m`);
    if (r.status !== 200) throw new Error(`run ${id} did not finish: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const ms = performance.now() - t0;
  clearInterval(sampler);
  return {
    figures: probes.map((p, i) => ({ rssMb: peak[i]!.rss, peakRssMb: p.peakRssMb(), workingSetMb: peak[i]!.ws, cores: (p.cpuMs() - cpu0[i]!) / ms })),
    transitionsPerS: (RUNS * STEPS) / (ms / 1000),
    seconds: ms / 1000,
  };
}

const rows: string[] = [];
function row(what: string, f: Figures, note = ''): void {
  rows.push(`| ${what} | ${f.rssMb.toFixed(0)} MB | ${f.peakRssMb.toFixed(0)} MB | ${f.workingSetMb.toFixed(0)} MB | ${f.cores.toFixed(2)} | ${note} |`);
}

const target = startTarget();
const tokens = tokensEnv('admin', hashToken(TOKEN));
const cleanup: (() => Promise<unknown>)[] = [];
try {
  // Embedded: PGlite in the process, everything else in memory.
  const volume = uniqueName('capstan-sizing').replace(/_/g, '-');
  cleanup.push(() => podman(['volume', 'rm', '-f', volume]));
  const port = await freePort();
  const startEmbedded = async () => {
    const c = await Container.run({ label: 'sizing', port, volume: `${volume}:${IMAGE.dataDir}`, env: { CAPSTAN_AUTH__TOKENS: tokens } });
    cleanup.unshift(() => c.remove());
    return c;
  };
  let emb = await startEmbedded();
  let p = await Probe.of(emb);
  row('embedded, idle after first start (initdb)', await idle(p));
  const def = await apiClient(`${emb.url}/api/v1/workflow`, TOKEN)('POST', '/definitions', pipelineDefinition(target.port!), 'application/yaml');
  if (def.status !== 201) throw new Error(`definition: ${def.status} ${JSON.stringify(def.body)}`);
  const e = await load(emb.url, [p]);
  row(`embedded, ${RUNS} runs × ${STEPS} http steps (peak memory)`, e.figures[0]!, `${e.transitionsPerS.toFixed(0)} transitions/s over ${e.seconds.toFixed(0)} s`);
  await emb.stop(15);
  await emb.remove();
  emb = await startEmbedded();
  p = await Probe.of(emb);
  row('embedded, idle after a restart (existing data)', await idle(p));
  await emb.stop(15);

  // Distributed: api + worker on the machine's services.
  const db = await createTestDatabase('sizing');
  cleanup.push(() => db.drop());
  const prefix = uniqueName('sizing').toLowerCase();
  const start = async (role: Role) => {
    const env = distributedEnv(role, { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: prefix, CAPSTAN_AUTH__TOKENS: tokens, CAPSTAN_SERVER__SHUTDOWN_TIMEOUT_MS: '10000', CAPSTAN_LOG_LEVEL: 'warn' });
    const c = await Container.run({ label: `sizing-${role}`, port: await freePort(), env, readOnly: true });
    cleanup.unshift(() => c.remove());
    return c;
  };
  const [api, worker] = await Promise.all([start('api'), start('worker')]);
  const probes = [await Probe.of(api), await Probe.of(worker)];
  const [apiIdle, workerIdle] = await Promise.all(probes.map(idle));
  row('distributed api, idle', apiIdle!);
  row('distributed worker, idle', workerIdle!);
  const d2 = await apiClient(`${api.url}/api/v1/workflow`, TOKEN)('POST', '/definitions', pipelineDefinition(target.port!), 'application/yaml');
  if (d2.status !== 201) throw new Error(`definition: ${d2.status}`);
  const d = await load(api.url, probes);
  row(`distributed api, ${RUNS} runs × ${STEPS} http steps (peak memory)`, d.figures[0]!, `${d.transitionsPerS.toFixed(0)} transitions/s over ${d.seconds.toFixed(0)} s (api + one worker)`);
  row(`distributed worker, same load (peak memory)`, d.figures[1]!, 'the worker runs the step consumers and the outbox relay');
} finally {
  for (const f of cleanup) await f().catch(() => {});
  target.stop(true);
}

const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\nImage ${image}; ${new Date().toISOString()}; load average at the end ${loadavg}\n`);
console.log('| instance | RSS | peak RSS since start | working set | CPU (cores) | notes |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) console.log(r);
