/** HTTP benchmark: requests/s of the kernel's createApp against a bare Hono app, both under Bun.serve in their own process. */
import { join } from 'node:path';
import { drive, loadGenerator, type LoadSpec } from './lib/load.ts';
import { processCpuUs } from './lib/proc.ts';
import { alternate } from './lib/rounds.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { formatNumber, formatPairedRatios, formatRounds, median } from './lib/stats.ts';

/** Sizes of one HTTP run. */
export interface HttpBenchOptions {
  /** Seconds of load per measured round. */
  seconds: number;
  /** Seconds of warm-up load per app and endpoint. */
  warmupSeconds: number;
  rounds: number;
  /** Open connections kept busy by the load generator. */
  connections: number;
}

const DEFAULTS: HttpBenchOptions = { seconds: 3, warmupSeconds: 2, rounds: 5, connections: 64 };
const POST_PATH = '/api/v1/bench/say';
const POST_BODY = JSON.stringify({ text: 'hello', times: 2 });

/** How this benchmark measures, for RESULTS.md. */
export const HTTP_METHOD = [
  `requests/s under a closed-loop load generator (see Machine) with ${DEFAULTS.connections} connections, ${DEFAULTS.rounds} rounds of ${DEFAULTS.seconds} s after ${DEFAULTS.warmupSeconds} s of warm-up per app and endpoint. Each app runs in its own bun process under Bun.serve with the options serve.ts uses; any non-2xx response or socket error aborts the run.`,
  'kernel: createApp (request id, metrics histogram, body limit, bearer auth with SHA-256 token lookup, per-token rate limit in MemoryRateCounter, OpenAPI router) over the memory adapters, with a bench module whose POST /say body is a zod strictObject; the token\'s rate limit is set far above the load so the limiter runs but never refuses.',
  'The kernel runs twice, as its two deployment modes hold their database: "kernel" opens PGlite in its process (embedded mode), "kernel on PostgreSQL" a connection pool to the local PostgreSQL (distributed mode). The HTTP path touches neither, but PGlite keeps about 0.5-1.3 GB of JavaScript heap alive (its WebAssembly runtime and file system), and every allocation of a request then costs more: bare Hono\'s own POST took 4-5 µs of CPU in a fresh process and 21-28 µs in a process holding PGlite (in-process loop, same machine, same minute).',
  'baseline: a bare Hono app with the same routes and answers: /healthz returns the same JSON; the POST compares the Authorization header with the expected string, parses the JSON and checks the fields by hand (same 400/401 cases, checked before measuring).',
];

/** The servers measured: the kernel holding PGlite (embedded mode), the kernel on PostgreSQL (distributed mode), bare Hono. */
type Side = 'kernel' | 'kernelOnPostgres' | 'baseline';
const SIDE_NAMES: Record<Side, string> = { kernel: 'kernel', kernelOnPostgres: 'kernel on PostgreSQL', baseline: 'bare Hono' };

/** A server child process and its base URL. */
interface Served {
  url: string;
  /** CPU time (user + system) the server process has used so far, in µs. */
  cpuUs(): number;
  stop(): Promise<void>;
}

/** Starts bench/http-server.ts for `which` and waits for its port. */
async function serve(side: Side, token: string): Promise<Served> {
  const which = side === 'baseline' ? 'baseline' : 'kernel';
  const p = Bun.spawn([process.execPath, join(import.meta.dirname, 'http-server.ts'), which], {
    env: { ...process.env, BENCH_TOKEN: token, BENCH_KERNEL_DB: side === 'kernelOnPostgres' ? 'postgres' : 'pglite' },
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const reader = p.stdout.getReader();
  let text = '';
  // PGlite starts in seconds on a quiet machine but took over a minute on a loaded one.
  const timer = setTimeout(() => p.kill(), 300_000);
  while (!/listening (\d+)\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${side} server exited before listening (code ${await p.exited})`);
    text += new TextDecoder().decode(value);
  }
  clearTimeout(timer);
  reader.releaseLock();
  const port = /listening (\d+)/.exec(text)![1];
  // The kernel process keeps compiling PGlite's WebAssembly in the background for a while after it listens; wait
  // until the server is idle (under 5 % of a core for a second, at most 60 s) so that work is not billed to requests.
  for (let i = 0; i < 60; i++) {
    const before = processCpuUs(p.pid);
    await Bun.sleep(1000);
    if (processCpuUs(p.pid) - before < 50_000) break;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    cpuUs: () => processCpuUs(p.pid),
    async stop() {
      await p.stdin.end();
      const exited = await Promise.race([p.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) p.kill('SIGKILL');
    },
  };
}

/** Checks that both apps answer alike, so the load measures equal work: 200 and the same JSON, 400 on bad input, 401 without a token. */
async function checkSameAnswers(servers: Record<Side, Served>, token: string): Promise<void> {
  for (const [name, s] of Object.entries(servers)) {
    const health = await fetch(`${s.url}/healthz`);
    const healthBody = await health.text();
    if (health.status !== 200 || healthBody !== '{"status":"ok"}') throw new Error(`${name} /healthz answered ${health.status} ${healthBody}`);
    const post = (body: string, auth = true) =>
      fetch(`${s.url}${POST_PATH}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) } });
    const ok = await post(POST_BODY);
    const okBody = await ok.text();
    if (ok.status !== 200 || okBody !== '{"said":"hellohello"}') throw new Error(`${name} POST answered ${ok.status} ${okBody}`);
    for (const bad of ['{"text":""}', '{"text":"a","times":9}', '{"text":"a","extra":1}', 'not json']) {
      const r = await post(bad);
      await r.body?.cancel();
      if (r.status !== 400) throw new Error(`${name} POST ${bad} answered ${r.status}, expected 400`);
    }
    const anon = await post(POST_BODY, false);
    await anon.body?.cancel();
    if (anon.status !== 401) throw new Error(`${name} POST without a token answered ${anon.status}, expected 401`);
  }
}

/** Runs the HTTP benchmark and returns its rows. */
export async function runHttp(opts: Partial<HttpBenchOptions> = {}): Promise<BenchRow[]> {
  const o = { ...DEFAULTS, ...opts };
  const token = crypto.randomUUID();
  progress('http', `load generator: ${loadGenerator()}; ${o.connections} connections`);
  const servers: Record<Side, Served> = { kernel: await serve('kernel', token), kernelOnPostgres: await serve('kernelOnPostgres', token), baseline: await serve('baseline', token) };
  try {
    await checkSameAnswers(servers, token);
    const endpoints: { name: string; spec: (url: string) => Omit<LoadSpec, 'seconds'> }[] = [
      { name: 'GET /healthz', spec: (url) => ({ url: `${url}/healthz`, method: 'GET', connections: o.connections }) },
      {
        name: `POST ${POST_PATH} (bearer auth, JSON body validated)`,
        spec: (url) => ({ url: `${url}${POST_PATH}`, method: 'POST', body: POST_BODY, token, connections: o.connections }),
      },
    ];
    const rows: BenchRow[] = [];
    for (const e of endpoints) {
      const cpu: Record<Side, number[]> = { kernel: [], kernelOnPostgres: [], baseline: [] };
      const measure = async (s: Served, seconds: number, side?: Side) => {
        const before = s.cpuUs();
        const r = await drive({ ...e.spec(s.url), seconds });
        if (side) cpu[side].push((s.cpuUs() - before) / r.requests);
        // A refused or failed request is cheaper than a served one; a figure that includes any is not comparable.
        if (r.non2xx > 0 || r.socketErrors > 0) throw new Error(`${e.name} at ${s.url}: ${r.non2xx} non-2xx responses, ${r.socketErrors} socket errors`);
        return r.rps;
      };
      progress('http', `${e.name}: warm-up ${o.warmupSeconds} s each`);
      for (const side of Object.keys(servers) as Side[]) await measure(servers[side], o.warmupSeconds);
      const r = await alternate(
        o.rounds,
        { kernel: () => measure(servers.kernel, o.seconds, 'kernel'), kernelOnPostgres: () => measure(servers.kernelOnPostgres, o.seconds, 'kernelOnPostgres'), baseline: () => measure(servers.baseline, o.seconds, 'baseline') },
        (round, f) => progress('http', `${e.name} round ${round}/${o.rounds}: ${(Object.keys(f) as Side[]).map((k) => `${SIDE_NAMES[k]} ${formatNumber(f[k])} req/s`).join(', ')}`),
      );
      for (const side of ['kernel', 'kernelOnPostgres'] as const) {
        rows.push({
          group: 'http',
          name: side === 'kernel' ? e.name : `${e.name}, kernel on PostgreSQL`,
          unit: 'req/s',
          kernel: median(r[side]),
          baseline: median(r.baseline),
          goalRatio: 0.9,
          detail: `${o.seconds} s/round, ${o.connections} connections; ${SIDE_NAMES[side]} ${formatRounds(r[side])}; bare Hono ${formatRounds(r.baseline)}; per-round ratios ${formatPairedRatios(r[side], r.baseline)}; server CPU per request (median): ${SIDE_NAMES[side]} ${formatNumber(median(cpu[side]))} µs, bare Hono ${formatNumber(median(cpu.baseline))} µs`,
        });
      }
    }
    return rows;
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

if (import.meta.main) {
  const { printTable } = await import('./lib/table.ts');
  const rows = await runHttp();
  printTable(rows);
  for (const r of rows) process.stdout.write(`${r.name}: ${r.detail}\n`);
  process.exit(0);
}
