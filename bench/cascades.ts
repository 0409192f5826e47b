/**
 * Cascades benchmark: N concurrent sessions of a 3-phase cascade in ONE worker process (this one, distributed mode on
 * PostgreSQL + Redis + NATS) against the fake LLM answering after 200 ms; baseline: N concurrent chains of 3 direct
 * HTTP calls to the same fake server in the same run. Reports throughput, memory per active session, database
 * statements per LLM turn, and the per-call overhead at p50/p99.
 */
import postgres from 'postgres';
import { startServer } from '../src/kernel/boot/serve.ts';
import { loadConfig } from '../src/kernel/config/load.ts';
import { createCascadesModule } from '../src/modules/cascades/index.ts';
import { createLlmClient } from '../src/kernel/llm/client/llm-client.ts';
import { llmConfigSchema } from '../src/kernel/llm/config/schema.ts';
import { spawnFakeLlm, type FakeLlmProcess } from '../test/contract/llm-fake.ts';
import { NATS_URL, PG_URL, REDIS_URL, uniqueName } from '../test/helpers/env.ts';
import { createTestDatabase } from '../test/helpers/postgres.ts';
import { startPgWireCounter } from './lib/pg-wire-counter.ts';
import { ensureFetchLimit } from './lib/fetch-limit.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { formatNumber, percentile } from './lib/stats.ts';

/** Sizes of one run. */
export interface CascadesBenchOptions {
  /** Session counts to try, each in its own round on a fresh server. */
  sizes: number[];
  latencyMs: number;
  /** Sessions of the round that counts statements through the wire proxy (it adds latency, so it is separate). */
  countedSessions: number;
  /** Sessions run one after the other (no queueing behind others): the overhead of the machinery alone. */
  sequential: number;
  /** Calls through the LLM port and direct calls, one at a time, interleaved. */
  portCalls: number;
}

const DEFAULTS: CascadesBenchOptions = { sizes: [1_000, 5_000], latencyMs: 200, countedSessions: 200, sequential: 40, portCalls: 300 };
const PHASES = 3;
const GOAL_P99_OVERHEAD_MS = 2;
const GOAL_BYTES_PER_SESSION = 1024 * 1024;

const CASCADE = {
  cascade_id: 'bench3',
  inputs_schema: { topic: { type: 'string' } },
  model: 'fake/m',
  phases: [
    { name: 'one', instructions: 'Research {{ input.topic }}' },
    { name: 'two', instructions: 'Draft', context: { from: ['one'] } },
    { name: 'three', instructions: 'Polish', context: { from: ['two'] } },
  ],
};

/** How this benchmark measures, for RESULTS.md. */
export const CASCADES_METHOD = [
  `the fake LLM runs as a child process answering every call after ${DEFAULTS.latencyMs} ms; this process is the only worker (in-process \`capstan serve\` with the cascades module, distributed mode: PostgreSQL, Redis/BullMQ, NATS), worker concurrency = sessions; it runs with BUN_CONFIG_MAX_HTTP_REQUESTS=4096 (Bun's fetch otherwise holds every call beyond 256 in flight, sessions' and direct chains' alike). Per size (${DEFAULTS.sizes.join(', ')}): that many sessions of a ${PHASES}-phase cascade (one LLM call per phase) are started through the HTTP API at once; throughput = sessions / (last finished_at − first created_at). Baseline in the same run: the same number of concurrent chains of ${PHASES} sequential fetch calls to the same fake server. Overhead per LLM call = (session duration percentile − chain duration percentile) / ${PHASES}, where session duration = finished_at − created_at (queueing, claim, checkpoints, logs and events included).`,
  `one session at a time (${DEFAULTS.sequential}): the fake server records when each call arrives, which splits a session into start (created_at → first call arrives), gaps between calls (arrival − previous arrival − latency; compared with the same gaps of direct chains) and end (last answer due → finished_at).`,
  `LLM port: ${DEFAULTS.portCalls} calls one at a time through the kernel LLM client the cascades use, and as many direct fetch calls to the same fake server, alternating which goes first; overhead = percentile through the port − the same percentile direct.`,
  `memory per active session: (heap used with every session waiting on its LLM call − heap used before, both after a full GC) / sessions in flight at the fake server; RSS delta likewise. Statements per LLM turn: a separate round of ${DEFAULTS.countedSessions} sessions through a counting PostgreSQL wire proxy, all statements (reads included) / LLM calls.`,
];

async function directChains(fake: FakeLlmProcess, n: number, tag = 'chain'): Promise<number[]> {
  const url = `${fake.baseUrl}/chat/completions`;
  const one = async (chain: string) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-bench-chain': chain }, body: JSON.stringify({ model: 'm', messages: [{ role: 'system', content: 'Research x' }, { role: 'user', content: 'Inputs: {"topic":"x"}' }] }) });
    await res.json();
  };
  return Promise.all(
    Array.from({ length: n }, async (_, c) => {
      const t0 = performance.now();
      for (let i = 0; i < PHASES; i++) await one(`${tag}-${c}`);
      return performance.now() - t0;
    }),
  );
}

/**
 * The LLM port alone, one call at a time: each round makes one direct fetch and one call through the kernel LLM
 * client the cascades use (retries, breaker, limiter, parsing, price table), in alternating order, to the same fake
 * server; the difference of their percentiles is what the port adds to each call.
 */
async function portVersusDirect(fake: FakeLlmProcess, n: number): Promise<{ direct: number[]; port: number[] }> {
  const llm = createLlmClient({ config: llmConfigSchema.parse({ providers: { fake: { baseUrl: fake.baseUrl, prices: { '*': { input: 1, output: 2 } } } } }) });
  const messages = [{ role: 'system' as const, content: 'Research x' }, { role: 'user' as const, content: 'Inputs: {"topic":"x"}' }];
  const direct = async () => {
    const t0 = performance.now();
    const res = await fetch(`${fake.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages }) });
    await res.json();
    return performance.now() - t0;
  };
  const port = async () => {
    const t0 = performance.now();
    await llm.chat({ model: 'fake/m', messages });
    return performance.now() - t0;
  };
  for (let i = 0; i < 5; i++) await Promise.all([direct(), port()]); // warm-up: connections, JIT
  const out = { direct: [] as number[], port: [] as number[] };
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      out.direct.push(await direct());
      out.port.push(await port());
    } else {
      out.port.push(await port());
      out.direct.push(await direct());
    }
  }
  return out;
}

/** Arrival times (epoch ms) at the fake server of the requests carrying header `name` = `value`, in order. */
async function arrivals(fake: FakeLlmProcess, name: string, value: string): Promise<number[]> {
  const seen = (await fake.stats()).requests.filter((r) => r.headers[name] === value);
  return seen.map((r) => r.receivedAt).sort((x, y) => x - y);
}

/** Gaps between consecutive calls of one chain, minus the server's latency: the time spent between an answer and the next call. */
function gapsOf(at: number[], latencyMs: number): number[] {
  return at.slice(1).map((t, i) => t - at[i]! - latencyMs);
}

/** Where a sequentially run session spends its time besides the LLM calls. */
interface Breakdown {
  /** created_at → the first LLM request arrives (HTTP answer, queue pick-up, claim, first call's client side). */
  start: number[];
  /** Between an answer and the next call (checkpoint writes now overlap the next call). */
  gaps: number[];
  /** The last answer is due → finished_at (the final write). */
  end: number[];
}

interface Round {
  n: number;
  /** Only for the one-at-a-time round. */
  breakdown?: Breakdown;
  throughput: number;
  durations: number[];
  heapPerSession: number;
  rssPerSession: number;
  peakInFlight: number;
  failed: number;
  /** Per session: first log row − created_at − one LLM latency (queue pick-up, claim, first call's overhead). */
  startDelays: number[];
}

async function cascadeRound(fake: FakeLlmProcess, n: number, dbUrl: string, inFlight = 50, latencyMs = DEFAULTS.latencyMs): Promise<Round> {
  const modules = [createCascadesModule()];
  const env = { DATABASE_URL: dbUrl, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: uniqueName('bcasc').toLowerCase() };
  const flags = {
    'server.port': 0,
    'log.level': 'warn',
    'auth.enabled': false,
    // Every start comes from this one address: the default budget (6,000 a minute) would refuse most of 10,000.
    'auth.rateLimitPerMinute': 100_000_000,
    llm: { providers: { fake: { baseUrl: fake.baseUrl, maxConcurrency: n + 100, prices: { '*': { input: 1, output: 2 } } } } },
    'modules.cascades': { enabled: true, concurrency: n },
  };
  const server = await startServer(loadConfig(modules, { env, flags }), modules, 'bench');
  const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  try {
    const api = `${server.url}/api/v1/cascades`;
    await fetch(`${api}/definitions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CASCADE) });
    Bun.gc(true);
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    let peak = { inFlight: 0, heap: heap0, rss: rss0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await fake.stats();
        if (s.inFlight > peak.inFlight * 1.02 || (s.inFlight >= n * 0.95 && peak.inFlight < n * 0.95)) {
          Bun.gc(true);
          peak = { inFlight: s.inFlight, heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
        }
        await Bun.sleep(50);
      }
    })();
    const start = async (i: number) => {
      const r = await fetch(`${api}/definitions/bench3/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { topic: `t${i}` } }) });
      if (r.status !== 201) throw new Error(`run: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { sessionId: string }).sessionId;
    };
    const ended = async (atLeast: number, pollMs: number) => {
      for (;;) {
        const [row] = await sql`SELECT count(*) FILTER (WHERE status IN ('completed', 'error'))::int AS done FROM cascades_sessions`;
        if (row!.done >= atLeast) return;
        await Bun.sleep(pollMs);
      }
    };
    let breakdown: Breakdown | undefined;
    if (inFlight === 1) {
      // One at a time: the next session starts when the previous one has ended; the fake server's arrival times of
      // its calls split its time into start, gaps between calls, and end.
      breakdown = { start: [], gaps: [], end: [] };
      for (let i = 0; i < n; i++) {
        const id = await start(i);
        await ended(i + 1, 5);
        const at = await arrivals(fake, 'x-capstan-session', id);
        const [row] = await sql`SELECT extract(epoch FROM created_at) * 1000 AS c, extract(epoch FROM finished_at) * 1000 AS f FROM cascades_sessions WHERE id = ${id}`;
        if (at.length !== PHASES) throw new Error(`session ${id}: ${at.length} LLM calls seen, expected ${PHASES}`);
        breakdown.start.push(at[0]! - Number(row!.c));
        breakdown.gaps.push(...gapsOf(at, latencyMs));
        breakdown.end.push(Number(row!.f) - at.at(-1)! - latencyMs);
      }
    } else {
      // Starting sessions is part of the load: `inFlight` requests at once, as many clients would.
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < n) {
            next += 1;
            await start(next);
          }
        }),
      );
      await ended(n, 200);
    }
    sampling = false;
    await sampler;
    const rows = await sql`SELECT status, extract(epoch FROM created_at) * 1000 AS c, extract(epoch FROM finished_at) * 1000 AS f FROM cascades_sessions`;
    const durations = rows.map((r) => Number(r.f) - Number(r.c));
    const firsts = await sql`SELECT extract(epoch FROM min(l.created_at) - s.created_at) * 1000 AS d FROM cascades_sessions s JOIN cascades_logs l ON l.session_id = s.id GROUP BY s.id, s.created_at`;
    const first = Math.min(...rows.map((r) => Number(r.c)));
    const last = Math.max(...rows.map((r) => Number(r.f)));
    return {
      n,
      breakdown,
      throughput: (n / (last - first)) * 1000,
      durations,
      heapPerSession: (peak.heap - heap0) / Math.max(1, peak.inFlight),
      rssPerSession: (peak.rss - rss0) / Math.max(1, peak.inFlight),
      peakInFlight: peak.inFlight,
      failed: rows.filter((r) => r.status !== 'completed').length,
      startDelays: firsts.map((r) => Number(r.d) - latencyMs),
    };
  } finally {
    await sql.end();
    await server.stop();
  }
}

async function countedRound(fake: FakeLlmProcess, n: number): Promise<{ perCall: number; labels: string }> {
  const db = await createTestDatabase('bcascw');
  const target = new URL(PG_URL);
  const proxy = await startPgWireCounter({ host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(db.url);
  url.port = String(proxy.port);
  try {
    // A first small round applies the migrations and warms up; the counted round follows on the same database.
    await cascadeRound(fake, 10, url.toString());
    proxy.reset();
    await cascadeRound(fake, n, url.toString());
    const c = proxy.counts();
    const calls = n * PHASES;
    const total = [...c.statements.values()].reduce((a, b) => a + b, 0);
    const top = [...c.statements.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${(v / calls).toFixed(2)}`).join(', ');
    return { perCall: total / calls, labels: top };
  } finally {
    await proxy.close();
    await db.drop();
  }
}

/** Runs the benchmark and returns its rows. */
export async function runCascades(opts: CascadesBenchOptions = DEFAULTS): Promise<BenchRow[]> {
  const fake = await spawnFakeLlm(['--latency-ms', String(opts.latencyMs), '--keep', '5']);
  const rows: BenchRow[] = [];
  try {
    for (const n of opts.sizes) {
      const db = await createTestDatabase('bcasc');
      try {
        progress('cascades', `${n} sessions`);
        const round = await cascadeRound(fake, n, db.url);
        progress('cascades', `${n} direct chains`);
        const chains = await directChains(fake, n);
        const p = (xs: number[], q: number) => percentile(xs, q);
        const over50 = (p(round.durations, 50) - p(chains, 50)) / PHASES;
        const over99 = (p(round.durations, 99) - p(chains, 99)) / PHASES;
        const label = `cascades, ${formatNumber(n)} concurrent 3-phase sessions, one worker, fake LLM ${opts.latencyMs} ms`;
        const detail = `${round.failed} failed; session duration p50 ${p(round.durations, 50).toFixed(0)} ms, p99 ${p(round.durations, 99).toFixed(0)} ms; direct chain p50 ${p(chains, 50).toFixed(0)} ms, p99 ${p(chains, 99).toFixed(0)} ms; peak LLM calls in flight ${round.peakInFlight}; created → first LLM answer logged, minus one latency (queue pick-up, claim, first call): p50 ${p(round.startDelays, 50).toFixed(0)} ms, p99 ${p(round.startDelays, 99).toFixed(0)} ms`;
        rows.push({ group: 'cascades', name: `${label}: completed sessions/s`, unit: 'sessions/s', kernel: round.throughput, detail });
        rows.push({ group: 'cascades', name: `${label}: overhead per LLM call p50 (goal at p99 ≤ ${GOAL_P99_OVERHEAD_MS} ms)`, unit: 'ms', kernel: over50 });
        rows.push({ group: 'cascades', name: `${label}: overhead per LLM call p99 (goal ≤ ${GOAL_P99_OVERHEAD_MS} ms)`, unit: 'ms', kernel: over99 });
        rows.push({ group: 'cascades', name: `${label}: heap per active session (goal ≤ 1 MB)`, unit: 'KiB', kernel: round.heapPerSession / 1024, detail: `RSS per active session ${(round.rssPerSession / 1024).toFixed(0)} KiB; goal ${GOAL_BYTES_PER_SESSION / 1024} KiB` });
      } finally {
        await db.drop();
      }
    }
    {
      const db = await createTestDatabase('bcascs');
      try {
        progress('cascades', `${opts.sequential} sessions one at a time`);
        const round = await cascadeRound(fake, opts.sequential, db.url, 1, opts.latencyMs);
        const chains: number[] = [];
        const chainGaps: number[] = [];
        for (let i = 0; i < opts.sequential; i++) {
          chains.push(...(await directChains(fake, 1, `seq${i}`)));
          chainGaps.push(...gapsOf(await arrivals(fake, 'x-bench-chain', `seq${i}-0`), opts.latencyMs));
        }
        const p = (xs: number[], q: number) => percentile(xs, q);
        const b = round.breakdown!;
        const pp = (xs: number[]) => `p50 ${p(xs, 50).toFixed(1)} ms, p99 ${p(xs, 99).toFixed(1)} ms`;
        const label = `cascades, one session at a time (${opts.sequential}), fake LLM ${opts.latencyMs} ms`;
        const detail = `session duration p50 ${p(round.durations, 50).toFixed(1)} ms, p99 ${p(round.durations, 99).toFixed(1)} ms; direct chain p50 ${p(chains, 50).toFixed(1)} ms, p99 ${p(chains, 99).toFixed(1)} ms (the session figure includes polling granularity of 5 ms only in its wall time, not in finished_at − created_at)`;
        rows.push({ group: 'cascades', name: `${label}: overhead per LLM call p50`, unit: 'ms', kernel: (p(round.durations, 50) - p(chains, 50)) / PHASES, detail });
        rows.push({ group: 'cascades', name: `${label}: overhead per LLM call p99 (goal ≤ ${GOAL_P99_OVERHEAD_MS} ms)`, unit: 'ms', kernel: (p(round.durations, 99) - p(chains, 99)) / PHASES });
        rows.push({
          group: 'cascades',
          name: `${label}: between an answer and the next call, p99 minus the direct chain's (goal ≤ ${GOAL_P99_OVERHEAD_MS} ms)`,
          unit: 'ms',
          kernel: p(b.gaps, 99) - p(chainGaps, 99),
          detail: `session ${pp(b.gaps)}; direct chain ${pp(chainGaps)}; created → first call arrives ${pp(b.start)}; last answer due → finished_at ${pp(b.end)}`,
        });
      } finally {
        await db.drop();
      }
    }
    {
      progress('cascades', `${opts.portCalls} LLM calls through the port and ${opts.portCalls} direct, interleaved`);
      const { direct, port } = await portVersusDirect(fake, opts.portCalls);
      const p = (xs: number[], q: number) => percentile(xs, q);
      const label = `cascades: LLM port, one call at a time (${opts.portCalls} each, interleaved), fake LLM ${opts.latencyMs} ms`;
      const detail = `through the port p50 ${p(port, 50).toFixed(2)} ms, p99 ${p(port, 99).toFixed(2)} ms; direct fetch p50 ${p(direct, 50).toFixed(2)} ms, p99 ${p(direct, 99).toFixed(2)} ms`;
      rows.push({ group: 'cascades', name: `${label}: overhead p50`, unit: 'ms', kernel: p(port, 50) - p(direct, 50), detail });
      rows.push({ group: 'cascades', name: `${label}: overhead p99 (goal ≤ ${GOAL_P99_OVERHEAD_MS} ms)`, unit: 'ms', kernel: p(port, 99) - p(direct, 99) });
    }
    progress('cascades', `${opts.countedSessions} sessions through the wire counter`);
    const counted = await countedRound(fake, opts.countedSessions);
    rows.push({ group: 'cascades', name: 'cascades: database statements per LLM turn (reads included)', unit: 'statements', kernel: counted.perCall, detail: counted.labels });
  } finally {
    await fake.stop();
  }
  return rows;
}

if (import.meta.main) {
  await ensureFetchLimit();
  // `--per-call` skips the concurrent rounds: only the one-at-a-time figures (sessions, the LLM port) and the statement count.
  const perCall = process.argv.includes('--per-call');
  // `--port-calls N`: more calls through the port (and as many direct) for a steadier p99 than the default 300 give.
  const at = process.argv.indexOf('--port-calls');
  const portCalls = at > 0 ? Number(process.argv[at + 1]) : DEFAULTS.portCalls;
  if (!Number.isInteger(portCalls) || portCalls < 1) {
    process.stderr.write('--port-calls needs a positive integer\n');
    process.exit(2);
  }
  const sizes = process.argv.slice(2).filter((a, i, all) => all[i - 1] !== '--port-calls').map(Number).filter((x) => x > 0);
  const rows = await runCascades({ ...DEFAULTS, portCalls, sizes: perCall ? [] : sizes.length ? sizes : DEFAULTS.sizes });
  for (const r of rows) console.log(`${r.name}: ${formatNumber(r.kernel)} ${r.unit}${r.detail ? ` (${r.detail})` : ''}`);
  process.exit(0);
}
