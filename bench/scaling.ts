/**
 * Scaling benchmark: workflow transitions/s with 1, 2 and 3 instances (separate processes) on one PostgreSQL and
 * NATS, each instance's share of the step work and its CPU, and the time a joining instance takes to hold its share
 * of the step shards. Instances are added one at a time (1 → 2 → 3) and removed again (3 → 2 → 1, clean stops), so
 * 1 and 2 instances are measured twice, before and after, which shows how much the machine's load moved meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect } from '@nats-io/transport-node';
import { NatsBus } from '../src/kernel/bus/nats-bus.ts';
import { NatsKvStore } from '../src/kernel/kv/nats-kv.ts';
import { NATS_URL, PG_URL, uniqueName } from '../test/helpers/env.ts';
import { Countdown } from './lib/pipeline.ts';
import { processCpuUs } from './lib/proc.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { cpuOfCommands } from './lib/server-cpu.ts';
import { formatNumber, formatRounds, median } from './lib/stats.ts';
import { dropSchema } from './lib/workflow-stack.ts';

const STEPS = 10;
/** Shards per step: divisible by 1, 2 and 3, so every instance count splits them evenly. */
const PARALLEL = 6;
const WORKFLOW = 'bench_scale';
const DEFAULTS = { runs: 200, warmupRuns: 60, rounds: 2, triggerConcurrency: 10 };

/** How this benchmark measures, for RESULTS.md. */
export const SCALING_METHOD = [
  `instances are separate processes (bench/lib/scaling-instance.ts), each assembled as workflow-stack.ts does (workflow module with default configuration, outbox relay, kernel Roles with the default membership: heartbeat 1 s, member timeout 5 s) on one fresh schema of database \`test\` and one NATS prefix. The workflow is s0→…→s${STEPS}, each step with parallel: ${PARALLEL} (${STEPS * PARALLEL} shard roles, spread over the instances by the kernel), each step moving on at once.`,
  `a round triggers ${DEFAULTS.runs} runs, split evenly over the instances (each triggers its part through the workflow.trigger action, ${DEFAULTS.triggerConcurrency} at a time); transitions/s = runs × ${STEPS} / (first trigger → the bench's own subscriber saw every run reach s${STEPS}). ${DEFAULTS.rounds} rounds per instance count and pass (1 → 2 → 3 instances, then 3 → 2 → 1); the table shows the median, the ratio is against 1 instance in the same run. Share of step work = steps an instance ran (workflow_process_latency_seconds_count) / all steps; CPU from /proc of each instance process, of all PostgreSQL processes and of nats-server over the round.`,
  'join time: from the moment the new instance process reports ready (module started, i.e. after its own start-up) until every step set is held in full, spread evenly (counts differ by at most one) over all instances, as the instances\' roles_held gauges say; also from the spawn of the process. The outbox relay stays one role on one instance (ordering), so that instance carries the publishing for all.',
];

/** A child instance and a one-request-at-a-time line protocol to it. */
class Instance {
  private readonly child: ChildProcess;
  private readonly replies: ((x: Record<string, unknown>) => void)[] = [];
  readonly ready: Promise<void>;
  readonly spawnedAt = performance.now();
  readyAt = 0;

  constructor(readonly id: string, args: Record<string, unknown>) {
    this.child = spawn(process.execPath, [join(import.meta.dirname, 'lib/scaling-instance.ts'), JSON.stringify({ ...args, instanceId: id })], { stdio: ['pipe', 'pipe', 'inherit'] });
    let readyNow!: () => void;
    this.ready = new Promise((r) => (readyNow = r));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.op === 'ready') {
        this.readyAt = performance.now();
        readyNow();
      } else this.replies.shift()?.(msg);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  request(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  async stats(): Promise<{ steps: number; held: Record<string, number>; members: number }> {
    return (await this.request({ op: 'stats' })) as never;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Waits until every step set is held in full and evenly over `all`; returns when that was first seen. */
async function balanced(all: Instance[], timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const stats = await Promise.all(all.map((i) => i.stats()));
    const ok = Array.from({ length: STEPS }, (_, k) => `${WORKFLOW}/s${k}`).every((set) => {
      const counts = stats.map((s) => s.held[set] ?? 0);
      return counts.reduce((a, b) => a + b, 0) === PARALLEL && Math.max(...counts) - Math.min(...counts) <= 1;
    });
    if (ok && stats.every((s) => s.members === all.length)) return performance.now();
    if (performance.now() > deadline) throw new Error(`shards not spread over ${all.length} instances within ${timeoutMs} ms: ${JSON.stringify(stats.map((s) => s.held))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What one round measured. */
interface Round {
  rate: number;
  share: number[];
  cpuMs: number[];
  pgMs: number;
  natsMs: number;
  seconds: number;
}

async function round(all: Instance[], bus: NatsBus, n: number, concurrency: number): Promise<Round> {
  const tag = uniqueName('r');
  const done = new Countdown(n, 180_000, 'completed runs');
  const finished = new Set<string>();
  const sub = await bus.subscribe(`workflow.run.status_changed.>`, (e) => {
    const d = e.data as { foreignId: string; status: string; runId: string };
    if (d.status === `s${STEPS}` && d.foreignId.startsWith(tag) && !finished.has(d.runId)) {
      finished.add(d.runId);
      done.hit();
    }
  });
  try {
    const steps0 = await Promise.all(all.map((i) => i.stats()));
    const cpu0 = all.map((i) => processCpuUs(i.pid));
    const pg0 = cpuOfCommands(['postgres']);
    const nats0 = cpuOfCommands(['nats-server']);
    const started = performance.now();
    const per = Math.ceil(n / all.length);
    await Promise.all(all.map((inst, k) => inst.request({ op: 'trigger', n: Math.min(per, n - k * per), tag: `${tag}-${k}`, concurrency })));
    const end = await done.done;
    const cpu1 = all.map((i) => processCpuUs(i.pid));
    const pg1 = cpuOfCommands(['postgres']);
    const nats1 = cpuOfCommands(['nats-server']);
    const steps1 = await Promise.all(all.map((i) => i.stats()));
    const ran = steps1.map((s, k) => s.steps - steps0[k]!.steps);
    const total = ran.reduce((a, b) => a + b, 0);
    return {
      rate: (n * STEPS) / ((end - started) / 1000),
      share: ran.map((x) => x / Math.max(1, total)),
      cpuMs: cpu1.map((c, k) => (c - cpu0[k]!) / 1000),
      pgMs: (pg1 - pg0) / 1000,
      natsMs: (nats1 - nats0) / 1000,
      seconds: (end - started) / 1000,
    };
  } finally {
    await sub.unsubscribe();
  }
}

const pct = (x: number) => `${Math.round(x * 100)} %`;

/** One line per round: rate, then per instance its share of steps and CPU (ms and % of one core over the round). */
function describe(r: Round): string {
  const inst = r.share.map((s, k) => `#${k + 1} ${pct(s)} of steps, CPU ${formatNumber(r.cpuMs[k]!)} ms (${pct(r.cpuMs[k]! / 1000 / r.seconds)} of a core)`).join(', ');
  return `${formatNumber(r.rate)} transitions/s: ${inst}; PostgreSQL ${formatNumber(r.pgMs)} ms, nats-server ${formatNumber(r.natsMs)} ms CPU`;
}

/** Runs the scaling benchmark and returns its rows. */
export async function runScaling(opts: Partial<typeof DEFAULTS> = {}): Promise<BenchRow[]> {
  const o = { ...DEFAULTS, ...opts };
  const schema = uniqueName('benchscale').toLowerCase();
  const prefix = uniqueName('benchscale');
  const args = { pgUrl: PG_URL, schema, prefix, workflow: WORKFLOW, steps: STEPS, parallel: PARALLEL };
  const nc = await connect({ servers: NATS_URL, name: prefix });
  const bus = await NatsBus.connect({ connection: nc, prefix, source: 'bench' });
  const live: Instance[] = [];
  const byCount = new Map<number, Round[]>();
  const joins: { count: number; fromReady: number; fromSpawn: number }[] = [];
  const measure = async (label: string) => {
    const rounds: Round[] = [];
    for (let i = 0; i < o.rounds; i++) rounds.push(await round(live, bus, o.runs, o.triggerConcurrency));
    byCount.set(live.length, [...(byCount.get(live.length) ?? []), ...rounds]);
    progress('scaling', `${label}: ${rounds.map(describe).join(' | ')}`);
  };
  const add = async () => {
    const inst = new Instance(`bench-${live.length + 1}-${prefix.slice(-6)}`, args);
    await inst.ready;
    live.push(inst);
    const at = await balanced(live);
    if (live.length > 1) joins.push({ count: live.length, fromReady: at - inst.readyAt, fromSpawn: at - inst.spawnedAt });
  };
  try {
    await add();
    progress('scaling', `warm-up: ${o.warmupRuns} runs`);
    await round(live, bus, o.warmupRuns, o.triggerConcurrency);
    await measure('1 instance');
    for (const n of [2, 3]) {
      await add();
      progress('scaling', `instance ${n} joined: held its share ${formatNumber(joins.at(-1)!.fromReady)} ms after it was ready (${formatNumber(joins.at(-1)!.fromSpawn)} ms after spawn)`);
      await round(live, bus, o.warmupRuns, o.triggerConcurrency);
      await measure(`${n} instances`);
    }
    for (const n of [2, 1]) {
      await live.pop()!.request({ op: 'stop' });
      await balanced(live);
      await measure(`${n} instance${n > 1 ? 's' : ''} (after the stop)`);
    }
  } finally {
    for (const i of live) i.kill();
    await bus.deleteStream().catch(() => {});
    await new NatsKvStore({ connection: nc, prefix }).destroyAll().catch(() => {});
    await bus.close();
    await nc.drain().catch(() => nc.close());
    await dropSchema(PG_URL, schema).catch((err) => progress('scaling', `cleanup: ${(err as Error).message}`));
  }
  const rate = (k: number) => median(byCount.get(k)!.map((r) => r.rate));
  const name = (k: number) => `workflow scaling, PostgreSQL + NATS: ${k} instance${k > 1 ? 's' : ''} (${STEPS} steps × ${PARALLEL} shards)`;
  const rows: BenchRow[] = [1, 2, 3].map((k) => ({
    group: 'scaling',
    name: k === 1 ? name(1) : `${name(k)} against 1 instance`,
    unit: 'transitions/s',
    kernel: rate(k),
    ...(k > 1 ? { baseline: rate(1) } : {}),
    detail: `${o.runs} runs × ${STEPS} transitions/round; ${formatRounds(byCount.get(k)!.map((r) => r.rate))} transitions/s; per round: ${byCount.get(k)!.map(describe).join(' | ')}`,
  }));
  rows.push({
    group: 'scaling',
    name: 'workflow scaling: a joining instance holds its share of the step shards (after it is ready)',
    unit: 'ms',
    kernel: median(joins.map((j) => j.fromReady)),
    detail: joins.map((j) => `instance ${j.count}: ${formatNumber(j.fromReady)} ms after ready, ${formatNumber(j.fromSpawn)} ms after spawn`).join('; '),
  });
  return rows;
}

if (import.meta.main) {
  const { printTable } = await import('./lib/table.ts');
  const rows = await runScaling();
  printTable(rows);
  for (const r of rows) if (r.detail) process.stdout.write(`- ${r.name}: ${r.detail}\n`);
  process.exit(0);
}
