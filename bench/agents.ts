/**
 * Agents benchmark: N concurrent agents on ONE node (this process, distributed mode on PostgreSQL + Redis + NATS) each
 * running a 5-turn scripted tool loop against the fake LLM (a child process answering after 100 ms); baseline: N
 * concurrent chains of 5 direct HTTP calls to the same fake server in the same run. Also: worktree creation through
 * the module against raw `git worktree add`, and agent events delivered to 10 WebSocket clients of /api/v1/events.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureWorktree } from '../src/modules/agents/runtime/worktree.ts';
import { spawnFakeLlm, type FakeLlmProcess } from '../test/contract/llm-fake.ts';
import { makeRepo, startAgentsServer } from '../test/helpers/agents-server.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../test/helpers/env.ts';
import { createTestDatabase } from '../test/helpers/postgres.ts';
import { tempDir } from '../test/helpers/server-process.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { formatNumber, percentile } from './lib/stats.ts';

const run = promisify(execFile);

/** Sizes of one run. */
export interface AgentsBenchOptions {
  /** Concurrent agent counts, each in its own round on a fresh server and database. */
  sizes: number[];
  latencyMs: number;
  /** Worktrees created per side (module vs raw git), alternating. */
  worktrees: number;
  /** A round stops waiting after this long; agents not ended by then count as not completed. */
  deadlineS: number;
  /** WebSocket clients subscribed to agents.> during each round. */
  eventClients: number;
}

const DEFAULTS: AgentsBenchOptions = { sizes: [100, 500], latencyMs: 100, worktrees: 40, eventClients: 10, deadlineS: 600 };
const TURNS = 5;
/** The issue's goal: 500 agents at once on one node. */
const GOAL_CONCURRENT = 500;

/** How this benchmark measures, for RESULTS.md. */
export const AGENTS_METHOD = [
  `the fake LLM runs as a child process (\`capstan dev fake-llm --latency-ms ${DEFAULTS.latencyMs}\`), scripted per agent (session header x-capstan-agent): ${TURNS - 1} turns calling read_file, then finish. This process is the only worker (in-process \`capstan serve\` with the agents module, distributed mode: PostgreSQL, Redis/BullMQ, NATS; concurrency = agents). Per size (${DEFAULTS.sizes.join(', ')}) that many agents are spawned through the HTTP API at once, each in its own git worktree of one temp repository; all must complete. Baseline in the same run: the same number of concurrent chains of ${TURNS} sequential fetch calls to the same fake server. Overhead per turn = (agent duration percentile − chain duration percentile) / ${TURNS}; agent duration = finishedAt − createdAt, so it includes queueing, worktree creation, the final commit and the diff artifact.`,
  `memory per agent: (peak RSS and heap sampled every 250 ms during the round − the same after a full GC before it) / agents. Events: ${DEFAULTS.eventClients} WebSocket clients of /api/v1/events?pattern=agents.> (each ready once a probe event reached it) count what they receive; figure = events received by all clients / round wall time. The server polls nothing for this: one GET /agents?limit=1000 per second tells the bench when the round is over. Worktrees: ${DEFAULTS.worktrees} per side, alternating, \`ensureWorktree\` (the module's path: mkdir, argv-only runCommand) vs \`git worktree add -b\` through execFile.`,
];

function script(fake: FakeLlmProcess): Promise<void> {
  const tool = { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }], usage: { input: 100, output: 10 } };
  return fake.script({ sessionHeader: 'x-capstan-agent', replies: [...Array.from({ length: TURNS - 1 }, () => tool), { toolCalls: [{ name: 'finish', arguments: { summary: 'done' } }], usage: { input: 100, output: 10 } }] });
}

async function directChains(fake: FakeLlmProcess, n: number, round: number): Promise<number[]> {
  const url = `${fake.baseUrl}/chat/completions`;
  return Promise.all(
    Array.from({ length: n }, async (_, c) => {
      const t0 = performance.now();
      const messages: unknown[] = [{ role: 'system', content: 'You are an agent.' }, { role: 'user', content: 'Read the README' }];
      for (let t = 0; t < TURNS; t++) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-capstan-agent': `direct-${round}-${c}` }, body: JSON.stringify({ model: 'agent', messages }) });
        const body = (await res.json()) as { choices: { message: unknown }[] };
        messages.push(body.choices[0]!.message);
      }
      return performance.now() - t0;
    }),
  );
}

async function worktreeRows(o: AgentsBenchOptions): Promise<BenchRow[]> {
  const repo = makeRepo({ 'README.md': '# bench\n', 'src/a.ts': 'export const a = 1;\n' });
  const dir = tempDir('capstan-bench-wt-');
  const mod: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < o.worktrees; i++) {
    const sides = i % 2 === 0 ? ['mod', 'raw'] : ['raw', 'mod'];
    for (const side of sides) {
      const t = performance.now();
      if (side === 'mod') {
        await ensureWorktree(repo, join(dir, `m${i}`), `capstan/agent-m${i}`, 'main');
        mod.push(performance.now() - t);
      } else {
        await run('git', ['worktree', 'add', '-q', '-b', `raw-${i}`, join(dir, `r${i}`), 'main'], { cwd: repo });
        raw.push(performance.now() - t);
      }
    }
  }
  return [
    { group: 'agents', name: 'worktree creation p50 (module ensureWorktree vs raw git worktree add)', unit: 'ms', kernel: percentile(mod, 50), baseline: percentile(raw, 50), detail: `${o.worktrees} per side; p99 module ${formatNumber(percentile(mod, 99))} ms, raw ${formatNumber(percentile(raw, 99))} ms` },
  ];
}

/** A WebSocket client of /api/v1/events counting `agents.*` events; resolves once a probe event published through the API reached it. */
async function wsClient(url: string, probe: string): Promise<{ count(): number; stop(): void }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/events?pattern=agents.>`);
  let n = 0;
  let ready!: () => void;
  const seen = new Promise<void>((r) => (ready = r));
  ws.addEventListener('message', (m) => {
    const e = JSON.parse(String(m.data)) as { type: string; data: { probe?: string } };
    if (e.type === 'agents.bench.probe') {
      if (e.data.probe === probe) ready();
    } else n += 1;
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('websocket failed to open')));
  });
  // The subscription is made after the upgrade: publish probes until one arrives.
  for (let i = 0; ; i++) {
    await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'agents.bench.probe', data: { probe } }) });
    if (await Promise.race([seen.then(() => true), Bun.sleep(200).then(() => false)])) break;
    if (i > 100) throw new Error('websocket client never received its probe');
  }
  return { count: () => n, stop: () => ws.close() };
}

async function agentRound(fake: FakeLlmProcess, n: number, round: number, o: AgentsBenchOptions): Promise<BenchRow[]> {
  const db = await createTestDatabase('bench_agents');
  const s = await startAgentsServer(fake.baseUrl, { concurrency: n, leaseMs: 60_000, heartbeatMs: 15_000, sweepIntervalMs: 5_000, roleTtlMs: 5_000 }, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: uniqueName('bagents').toLowerCase() } });
  try {
    const repo = makeRepo({ 'README.md': '# bench\nread me\n' });
    const clients = await Promise.all(Array.from({ length: o.eventClients }, (_, i) => wsClient(s.url, `c${i}`)));
    Bun.gc(true);
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;
    let peakRss = rss0;
    let peakHeap = heap0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 250);
    const t0 = performance.now();
    const ids = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const r = await s.api('POST', '/agents', { model: 'fake/agent', task: `bench task ${i}`, repo });
        if (r.status !== 201) throw new Error(`spawn: ${r.status} ${JSON.stringify(r.body)}`);
        return (r.body as { id: string }).id;
      }),
    );
    // Wait for every agent to end; one list call per second keeps the polling out of the figures.
    const deadline = Date.now() + o.deadlineS * 1000;
    let agents: Record<string, any>[] = [];
    const wanted = new Set(ids);
    for (;;) {
      agents = ((await s.api('GET', '/agents?limit=1000')).body.items as Record<string, any>[]).filter((a) => wanted.has(a.id));
      if (agents.length === ids.length && agents.every((a) => ['completed', 'failed', 'killed'].includes(a.status))) break;
      // Past the deadline the round ends with what completed: the rest count as not completed (the figure says how many).
      if (Date.now() > deadline) break;
      await Bun.sleep(1_000);
    }
    const wall = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    // Agents that did not complete are counted, not thrown: how many a node carries is the figure.
    const failed = [...agents.filter((a) => a.status !== 'completed'), ...ids.filter((id) => !agents.some((a) => a.id === id)).map((id) => ({ id, status: 'missing', error: 'not listed' }))];
    const errors = [...new Set(failed.map((a) => (['completed', 'failed', 'killed'].includes(a.status) ? String(a.error) : `still ${a.status} after ${o.deadlineS} s`)))].slice(0, 3);
    agents = agents.filter((a) => a.status === 'completed');
    if (agents.length === 0) throw new Error(`none of ${n} agents completed: ${errors.join('; ')}`);
    const received = clients.reduce((sum, c) => sum + c.count(), 0);
    for (const c of clients) c.stop();
    const durations = agents.map((a) => Date.parse(a.finishedAt) - Date.parse(a.createdAt));
    const firstCreated = Math.min(...agents.map((a) => Date.parse(a.createdAt)));
    const lastFinished = Math.max(...agents.map((a) => Date.parse(a.finishedAt)));
    const chains = await directChains(fake, n, round);
    const over = (p: number) => (percentile(durations, p) - percentile(chains, p)) / TURNS;
    const label = `${n} agents at once`;
    return [
      { group: 'agents', name: `${label}: completed of ${n} spawned (${TURNS} turns, ${o.latencyMs} ms LLM latency)`, unit: 'agents', kernel: agents.length, baseline: n, goalRatio: 1, detail: `${failed.length} did not complete${errors.length > 0 ? ` (${errors.join('; ')})` : ''}; the issue's goal is ${GOAL_CONCURRENT} at once; wall ${formatNumber(wall)} s; first created → last finished ${formatNumber((lastFinished - firstCreated) / 1000)} s; agent duration p50 ${formatNumber(percentile(durations, 50))} ms, p99 ${formatNumber(percentile(durations, 99))} ms; direct chain p50 ${formatNumber(percentile(chains, 50))} ms, p99 ${formatNumber(percentile(chains, 99))} ms` },
      { group: 'agents', name: `${label}: overhead per turn p50 ((completed agent − direct chain) / ${TURNS})`, unit: 'ms', kernel: over(50) },
      { group: 'agents', name: `${label}: overhead per turn p99`, unit: 'ms', kernel: over(99) },
      { group: 'agents', name: `${label}: memory per agent (peak RSS delta / agents)`, unit: 'KiB', kernel: (peakRss - rss0) / 1024 / n, detail: `heap delta per agent ${formatNumber((peakHeap - heap0) / 1024 / n)} KiB` },
      { group: 'agents', name: `${label}: events delivered to ${o.eventClients} WebSocket clients`, unit: 'events/s', kernel: received / wall, detail: `${received} events received in total (${formatNumber(received / o.eventClients)} per client)` },
    ];
  } finally {
    await s.server.stop();
    await db.drop();
  }
}

/** Runs the agents benchmark. */
export async function runAgents(opts: Partial<AgentsBenchOptions> = {}): Promise<BenchRow[]> {
  const o = { ...DEFAULTS, ...opts };
  const rows: BenchRow[] = [];
  progress('agents', 'worktree creation');
  rows.push(...(await worktreeRows(o)));
  const fake = await spawnFakeLlm(['--latency-ms', String(o.latencyMs), '--keep', '0']);
  try {
    await script(fake);
    for (const [round, n] of o.sizes.entries()) {
      progress('agents', `${n} concurrent agents`);
      const got = await agentRound(fake, n, round, o);
      console.error(JSON.stringify(got));
      rows.push(...got);
    }
  } finally {
    await fake.stop();
  }
  return rows;
}

if (import.meta.main) {
  // `bun bench/agents.ts [size ...]`: prints the rows as JSON (bench/run.ts agents writes the table).
  const sizes = process.argv.slice(2).map(Number).filter((x) => Number.isInteger(x) && x > 0);
  const deadlineS = Number(process.env.AGENTS_BENCH_DEADLINE_S ?? DEFAULTS.deadlineS);
  const rows = await runAgents({ ...(sizes.length > 0 ? { sizes } : {}), deadlineS });
  console.log(JSON.stringify(rows, null, 2));
  process.exit(0);
}
