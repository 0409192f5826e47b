/**
 * Workflow benchmark: durable transitions/s and transition latency of N runs × 10 steps on PostgreSQL + NATS,
 * against the same number of single-row PostgreSQL transactions in the same run; embedded mode for information;
 * and a diagnostic pass through a wire-counting proxy that shows where a transition's round trips go.
 */
import postgres from 'postgres';
import { chainWorkflow } from './lib/chain-workflow.ts';
import { PG_URL, uniqueName } from '../test/helpers/env.ts';
import { Countdown, pipelined } from './lib/pipeline.ts';
import { startPgWireCounter, type WireCounts } from './lib/pg-wire-counter.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { alternate } from './lib/rounds.ts';
import { cpuOfCommands } from './lib/server-cpu.ts';
import { formatNumber, formatPairedRatios, formatRounds, median, percentile } from './lib/stats.ts';
import { distributedStack, dropSchema, embeddedStack, type WorkflowStack } from './lib/workflow-stack.ts';

/** Sizes of one workflow run. */
export interface WorkflowBenchOptions {
  /** Runs per measured round (each makes STEPS transitions). */
  runs: number;
  warmupRuns: number;
  rounds: number;
  /** Runs per round in embedded mode. */
  embeddedRuns: number;
  /** Runs pushed through the wire-counting proxy. */
  diagnosticRuns: number;
  /** Triggers awaiting their transaction at any moment. */
  triggerConcurrency: number;
  /** Runs made one after the other (one in flight) for the unloaded latency. */
  aloneRuns: number;
}

const DEFAULTS: WorkflowBenchOptions = { runs: 150, warmupRuns: 30, rounds: 3, embeddedRuns: 60, diagnosticRuns: 40, triggerConcurrency: 10, aloneRuns: 10 };
const STEPS = 10;
const WORKFLOW = 'bench_chain';
/** The kernel's default pool size (postgres-database.ts); the baseline's pool gets the same. */
const POOL_MAX = 10;
const ABSOLUTE_GOAL = 2_000;

/** How this benchmark measures, for RESULTS.md. */
export const WORKFLOW_METHOD = [
  `one instance assembled as boot/resources.ts and serve.ts do: createPostgresDatabase on a fresh schema of database \`test\` (pool ${POOL_MAX}), NatsBus + NatsKvStore + KvLeases on one NATS connection with a unique prefix, the workflow module with its default configuration (one consumer shard per step) and the outbox relay (default batch 500, idle poll 50 ms, woken by commits in this process); the queue is a MemoryQueue (the workflow module does not use it). The workflow is code-defined: s0→s1→…→s${STEPS}, each step returns the next status at once.`,
  `transitions/s = runs × ${STEPS} / (first trigger → the bench's subscriber receives the last run's status_changed to s${STEPS}); runs are triggered through the \`workflow.trigger\` action, ${DEFAULTS.triggerConcurrency} at a time; the run-creating transactions happen inside that time but are not counted as transitions. Latency of a transition (${DEFAULTS.runs} runs started together, so it includes queueing) = receive time of status_changed(s(k+1)) − receive time of status_changed(s(k)) at an ephemeral bus subscription in the same process, pooled over the measured rounds, nearest-rank percentiles; the unloaded latency comes from ${DEFAULTS.aloneRuns} more runs made one after the other.`,
  `baseline: the same number of transactions (BEGIN; UPDATE bench_counter SET n = n + 1 WHERE key = $1; COMMIT, one row per run) through raw postgres.js (pool ${POOL_MAX}, same schema) with as many in flight as the workflow's peak of database transactions in flight in the warm-up (capped at the pool size). ${DEFAULTS.rounds} rounds of ${DEFAULTS.runs} runs each after a ${DEFAULTS.warmupRuns}-run warm-up, alternating which side goes first; the table shows the median round. A second row compares transitions/s with the absolute goal of ${ABSOLUTE_GOAL.toLocaleString('en-US')}/s (shown in the baseline column).`,
  'where the time goes: the bench wraps the Database and the EventBus it hands to the module and the relay (no change to src/), and records per transition: the transaction time (pool wait included), commit → the relay publishes it, publish → JetStream ack, ack → the owning consumer starts its handler, and the handler (lookup or cached run + step + transition); also status_changed deliveries to step consumers per transition, and CPU per transition of this process (engine, relay, consumers, subscriber), of all PostgreSQL processes and of nats-server.',
  `round trips: a separate pass of ${DEFAULTS.diagnosticRuns} runs (and as many baseline transactions) through a loopback proxy in front of PostgreSQL that counts client turns (a write after the server answered) and executed statements by SQL verb and table; the proxy adds latency, so that pass is not timed. Embedded mode (in-memory PGlite, MemoryBus, MemoryKvStore, same module and relay) is reported for information with ${DEFAULTS.embeddedRuns} runs per round.`,
];


/** What one workflow round measured. */
interface WfRound {
  rate: number;
  intervals: number[];
  cpuUs: { bench: number; postgres: number; nats: number };
  meanInFlight: number;
  maxInFlight: number;
  probe: Record<'txMs' | 'relayPickupMs' | 'publishMs' | 'consumerWaitMs' | 'handlerMs', number>;
  deliveriesPerTransition: number;
}

function cpuNow() {
  const u = process.cpuUsage();
  return { bench: u.user + u.system, postgres: cpuOfCommands(['postgres']), nats: cpuOfCommands(['nats-server']) };
}

/** Triggers `n` runs and waits until each reached s10; per transition latencies from the event receive times. */
async function workflowRound(stack: WorkflowStack, n: number, concurrency: number): Promise<WfRound> {
  const tag = uniqueName('r');
  const seen = new Map<string, number[]>();
  const done = new Countdown(n, 120_000, 'completed runs');
  const sub = await stack.bus.subscribe('workflow.run.status_changed.>', (e) => {
    const d = e.data as { workflow: string; foreignId: string; runId: string; status: string };
    if (d.workflow !== WORKFLOW || !d.foreignId.startsWith(tag)) return;
    const k = Number(d.status.slice(1));
    let times = seen.get(d.runId);
    if (!times) seen.set(d.runId, (times = []));
    // At-least-once delivery: the first arrival of each status counts.
    if (times[k] !== undefined) return;
    times[k] = performance.now();
    if (k === STEPS) done.hit();
  });
  try {
    const cpu0 = cpuNow();
    stack.probe.start();
    const started = performance.now();
    await pipelined(n, concurrency, (i) => stack.trigger(WORKFLOW, `${tag}-${i}`, { i }));
    const finished = await done.done;
    const meanInFlight = stack.probe.stop();
    const cpu1 = cpuNow();
    const transitions = n * STEPS;
    const intervals: number[] = [];
    for (const times of seen.values()) for (let k = 0; k < STEPS; k++) if (times[k] !== undefined && times[k + 1] !== undefined) intervals.push(times[k + 1]! - times[k]!);
    const p = stack.probe;
    return {
      rate: transitions / ((finished - started) / 1000),
      intervals,
      cpuUs: { bench: (cpu1.bench - cpu0.bench) / transitions, postgres: (cpu1.postgres - cpu0.postgres) / transitions, nats: (cpu1.nats - cpu0.nats) / transitions },
      meanInFlight,
      maxInFlight: p.maxInFlight,
      probe: { txMs: median(p.txMs), relayPickupMs: median(p.relayPickupMs), publishMs: median(p.publishMs), consumerWaitMs: median(p.consumerWaitMs), handlerMs: median(p.handlerMs) },
      deliveriesPerTransition: p.deliveries / transitions,
    };
  } finally {
    await sub.unsubscribe();
  }
}

/** Single-row transactions on the baseline table through raw postgres.js. */
function baselineSide(sql: postgres.Sql, keys: number) {
  const latencies: number[] = [];
  const cpu: { bench: number; postgres: number }[] = [];
  const round = async (n: number, concurrency: number): Promise<number> => {
    const c0 = cpuNow();
    const started = performance.now();
    await pipelined(n, concurrency, async (i) => {
      const t = performance.now();
      await sql.begin((tx) => tx`UPDATE bench_counter SET n = n + 1 WHERE key = ${i % keys}`);
      latencies.push(performance.now() - t);
    });
    const rate = n / ((performance.now() - started) / 1000);
    const c1 = cpuNow();
    cpu.push({ bench: (c1.bench - c0.bench) / n, postgres: (c1.postgres - c0.postgres) / n });
    return rate;
  };
  return { round, latencies, cpu };
}

async function openBaseline(pgUrl: string, schema: string, keys: number) {
  const sql = postgres(pgUrl, { max: POOL_MAX, onnotice: () => {}, connection: { search_path: schema } });
  await sql`CREATE TABLE IF NOT EXISTS bench_counter (key int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)`;
  await sql`INSERT INTO bench_counter (key) SELECT generate_series(0, ${keys - 1}) ON CONFLICT DO NOTHING`;
  return sql;
}

const ms = (x: number) => `${formatNumber(x)} ms`;

/** The distributed comparison: warm-up, alternating rounds, rows. */
async function measureDistributed(o: WorkflowBenchOptions): Promise<{ rows: BenchRow[]; concurrency: number }> {
  const schema = uniqueName('benchwf').toLowerCase();
  const stack = await distributedStack({ pgUrl: PG_URL, schema }, [chainWorkflow(WORKFLOW, STEPS)], STEPS);
  const sql = await openBaseline(PG_URL, schema, o.runs);
  try {
    const baseline = baselineSide(sql, o.runs);
    progress('workflow', `warm-up: ${o.warmupRuns} runs`);
    const warm = await workflowRound(stack, o.warmupRuns, o.triggerConcurrency);
    const concurrency = Math.max(1, Math.min(POOL_MAX, warm.maxInFlight));
    await baseline.round(o.warmupRuns * STEPS, concurrency);
    baseline.latencies.length = 0;
    baseline.cpu.length = 0;
    progress('workflow', `warm-up: ${formatNumber(warm.rate)} transitions/s; baseline concurrency ${concurrency} (peak transactions in flight)`);
    const rounds: WfRound[] = [];
    const r = await alternate(
      o.rounds,
      {
        kernel: async () => {
          const w = await workflowRound(stack, o.runs, o.triggerConcurrency);
          rounds.push(w);
          return w.rate;
        },
        baseline: () => baseline.round(o.runs * STEPS, concurrency),
      },
      (round, f) => progress('workflow', `round ${round}/${o.rounds}: workflow ${formatNumber(f.kernel)} transitions/s, baseline ${formatNumber(f.baseline)} tx/s`),
    );
    // Latency without queueing: one run at a time, so each transition waits only for the relay and its consumer.
    const alone: number[] = [];
    const aloneRounds: WfRound[] = [];
    for (let i = 0; i < o.aloneRuns; i++) {
      const w = await workflowRound(stack, 1, 1);
      aloneRounds.push(w);
      alone.push(...w.intervals);
    }
    const aloneMs = (k: keyof WfRound['probe']) => ms(median(aloneRounds.map((w) => w.probe[k])));
    const intervals = rounds.flatMap((w) => w.intervals);
    const pick = <K extends keyof WfRound['probe']>(k: K) => median(rounds.map((w) => w.probe[k]));
    const cpu = (k: keyof WfRound['cpuUs']) => formatNumber(median(rounds.map((w) => w.cpuUs[k])));
    const name = 'workflow, PostgreSQL + NATS';
    const detail = [
      `${o.runs} runs × ${STEPS} transitions/round; workflow ${formatRounds(r.kernel)} transitions/s; baseline (${concurrency} in flight) ${formatRounds(r.baseline)} tx/s; per-round ratios ${formatPairedRatios(r.kernel, r.baseline)}`,
      `database transactions in flight during the workflow rounds: mean ${rounds.map((w) => w.meanInFlight.toFixed(1)).join(' / ')}, peak ${rounds.map((w) => w.maxInFlight).join(' / ')}`,
      `per transition (medians over rounds of each round's median): transaction ${ms(pick('txMs'))} (baseline transaction p50 ${ms(median(baseline.latencies))}), commit → relay publishes ${ms(pick('relayPickupMs'))}, publish → JetStream ack ${ms(pick('publishMs'))}, ack → owning consumer starts ${ms(pick('consumerWaitMs'))}, consumer handler (lookup or cached run + step + transition) ${ms(pick('handlerMs'))}; status_changed deliveries to step consumers per transition: ${formatNumber(median(rounds.map((w) => w.deliveriesPerTransition)))} (1 = each consumer receives only its own status's events)`,
      `CPU per transition: this process ${cpu('bench')} µs, PostgreSQL ${cpu('postgres')} µs, nats-server ${cpu('nats')} µs; baseline CPU per transaction: this process ${formatNumber(median(baseline.cpu.map((c) => c.bench)))} µs, PostgreSQL ${formatNumber(median(baseline.cpu.map((c) => c.postgres)))} µs`,
    ].join('; ');
    const rows: BenchRow[] = [
      { group: 'workflow', name: `${name}: ${o.runs} runs × ${STEPS} steps`, unit: 'transitions/s', kernel: median(r.kernel), baseline: median(r.baseline), goalRatio: 0.5, detail },
      { group: 'workflow', name: `${name}: transitions/s against the absolute goal (baseline column = the goal)`, unit: 'transitions/s', kernel: median(r.kernel), baseline: ABSOLUTE_GOAL, goalRatio: 1 },
      { group: 'workflow', name: `${name}: transition latency p50, ${o.runs} runs at once`, unit: 'ms', kernel: percentile(intervals, 50), detail: `${intervals.length.toLocaleString('en-US')} transitions; p90 ${ms(percentile(intervals, 90))}, max ${ms(Math.max(...intervals))}; per-round p50 ${rounds.map((w) => ms(percentile(w.intervals, 50))).join(' / ')}` },
      { group: 'workflow', name: `${name}: transition latency p99, ${o.runs} runs at once`, unit: 'ms', kernel: percentile(intervals, 99) },
      { group: 'workflow', name: `${name}: transition latency p50, one run at a time`, unit: 'ms', kernel: percentile(alone, 50), detail: `${o.aloneRuns} runs one after the other (${alone.length} transitions): p50 ${ms(percentile(alone, 50))}, p99 ${ms(percentile(alone, 99))}, min ${ms(Math.min(...alone))}; per transition (medians): transaction ${aloneMs('txMs')}, commit → relay publishes ${aloneMs('relayPickupMs')}, publish → JetStream ack ${aloneMs('publishMs')}, ack → owning consumer starts ${aloneMs('consumerWaitMs')}, handler ${aloneMs('handlerMs')}` },
    ];
    return { rows, concurrency };
  } finally {
    await sql.end({ timeout: 5 });
    await stack.close();
    await dropSchema(PG_URL, schema).catch((err) => progress('workflow', `cleanup: ${(err as Error).message}`));
  }
}

/** Embedded mode, for information: same module and relay on PGlite and the memory adapters. */
async function measureEmbedded(o: WorkflowBenchOptions): Promise<BenchRow[]> {
  const stack = await embeddedStack([chainWorkflow(WORKFLOW, STEPS)], STEPS);
  try {
    await workflowRound(stack, o.warmupRuns, o.triggerConcurrency);
    const rounds: WfRound[] = [];
    for (let i = 0; i < o.rounds; i++) rounds.push(await workflowRound(stack, o.embeddedRuns, o.triggerConcurrency));
    const rates = rounds.map((w) => w.rate);
    const intervals = rounds.flatMap((w) => w.intervals);
    progress('workflow', `embedded: ${formatRounds(rates)} transitions/s`);
    const name = 'workflow, embedded (PGlite + MemoryBus)';
    const pick = (k: keyof WfRound['probe']) => ms(median(rounds.map((w) => w.probe[k])));
    return [
      { group: 'workflow', name: `${name}: ${o.embeddedRuns} runs × ${STEPS} steps`, unit: 'transitions/s', kernel: median(rates), detail: `${formatRounds(rates)}; transaction ${pick('txMs')}, commit → relay publishes ${pick('relayPickupMs')}, publish → delivered to the owning consumer ${pick('consumerWaitMs')}, handler ${pick('handlerMs')}; CPU of this process per transition ${formatNumber(median(rounds.map((w) => w.cpuUs.bench)))} µs` },
      { group: 'workflow', name: `${name}: transition latency p50, ${o.embeddedRuns} runs at once`, unit: 'ms', kernel: percentile(intervals, 50), detail: `p50 ${ms(percentile(intervals, 50))}, p99 ${ms(percentile(intervals, 99))}` },
    ];
  } finally {
    await stack.close();
  }
}

function perTransition(c: WireCounts, transitions: number): string {
  const labels = [...c.statements.entries()].sort((a, b) => b[1] - a[1]);
  return labels.map(([label, n]) => `${label} ${(n / transitions).toFixed(2)}`).join(', ');
}

/** Round trips and statements per transition, through the counting proxy (not timed). */
async function measureRoundTrips(o: WorkflowBenchOptions, concurrency: number): Promise<BenchRow[]> {
  const target = new URL(PG_URL);
  const proxy = await startPgWireCounter({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(PG_URL);
  viaProxy.port = String(proxy.port);
  const schema = uniqueName('benchwfrt').toLowerCase();
  const stack = await distributedStack({ pgUrl: viaProxy.toString(), schema }, [chainWorkflow(WORKFLOW, STEPS)], STEPS);
  const sql = await openBaseline(viaProxy.toString(), schema, o.diagnosticRuns);
  try {
    await workflowRound(stack, 5, o.triggerConcurrency);
    // The relay polls while idle: count one idle second separately so it can be told apart.
    proxy.reset();
    await new Promise((r) => setTimeout(r, 1_000));
    const idle = proxy.counts();
    proxy.reset();
    await workflowRound(stack, o.diagnosticRuns, o.triggerConcurrency);
    const wf = proxy.counts();
    const transitions = o.diagnosticRuns * STEPS;
    const baseline = baselineSide(sql, o.diagnosticRuns);
    await baseline.round(transitions, concurrency);
    proxy.reset();
    await baseline.round(transitions, concurrency);
    const base = proxy.counts();
    const statements = (c: WireCounts) => [...c.statements.values()].reduce((a, b) => a + b, 0);
    return [
      {
        group: 'workflow',
        name: 'workflow, PostgreSQL + NATS: database round trips per transition (issue: at most 2)',
        unit: 'round trips',
        kernel: wf.roundTrips / transitions,
        baseline: base.roundTrips / transitions,
        detail: `${o.diagnosticRuns} runs through a counting proxy; statements per transition ${(statements(wf) / transitions).toFixed(2)} (baseline ${(statements(base) / transitions).toFixed(2)}): ${perTransition(wf, transitions)}; round trips that only parse and describe a statement (no execute) per transition: ${(wf.describeOnly / transitions).toFixed(2)} (baseline ${(base.describeOnly / transitions).toFixed(2)}); the ${o.diagnosticRuns} run creations are included; idle, the instance makes ${idle.roundTrips} round trips/s (${perTransition(idle, 1)})`,
      },
    ];
  } finally {
    await sql.end({ timeout: 5 });
    await stack.close();
    await proxy.close();
    await dropSchema(PG_URL, schema).catch((err) => progress('workflow', `cleanup: ${(err as Error).message}`));
  }
}

/** Runs the workflow benchmark and returns its rows. */
export async function runWorkflow(opts: Partial<WorkflowBenchOptions> = {}): Promise<BenchRow[]> {
  const o = { ...DEFAULTS, ...opts };
  const { rows, concurrency } = await measureDistributed(o);
  progress('workflow', 'round trips through the counting proxy');
  rows.push(...(await measureRoundTrips(o, concurrency)));
  progress('workflow', 'embedded mode');
  rows.push(...(await measureEmbedded(o)));
  return rows;
}

if (import.meta.main) {
  const { printTable } = await import('./lib/table.ts');
  const rows = await runWorkflow();
  printTable(rows);
  for (const r of rows) if (r.detail) process.stdout.write(`- ${r.name}: ${r.detail}\n`);
  process.exit(0);
}
