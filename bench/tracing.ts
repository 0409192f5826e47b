/**
 * `bun bench/tracing.ts`: what tracing costs, in one process. Tracing is started once (exporting to a local sink that
 * drops the spans) and switched off and on between rounds, so "off" runs exactly the code path of an instance without
 * `tracing.endpoint`. Two "off" series measured alternately with "on" show the noise band on this machine.
 */
import { MemoryBus } from '../src/kernel/bus/memory-bus.ts';
import { createPgliteDatabase } from '../src/kernel/db/pglite-database.ts';
import { startTracing } from '../src/kernel/tracing/setup.ts';
import { setTracingOn, withSpan } from '../src/kernel/tracing/spans.ts';
import { TracedBus } from '../src/kernel/tracing/traced-bus.ts';
import { tracedDatabase } from '../src/kernel/tracing/traced-database.ts';
import { kernelApp } from './http-kernel-app.ts';
import { alternate } from './lib/rounds.ts';
import { formatNumber, formatRounds, median } from './lib/stats.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
let exported = 0;
const sink = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    exported += (await req.text()).length;
    return Response.json({});
  },
});
const tracing = startTracing({ endpoint: `http://127.0.0.1:${sink.port}/v1/traces`, serviceName: 'bench', sampleRatio: 1, headers: {}, exportIntervalMs: 500 }, { version: 'bench' });

/** Runs `fn` with tracing switched to `on` and returns its figure. */
function mode(on: boolean, fn: () => Promise<number>): () => Promise<number> {
  return async () => {
    setTracingOn(on);
    try {
      return await fn();
    } finally {
      setTracingOn(false);
    }
  };
}

/** Ops per second of `n` calls of `op`, `concurrency` at a time. */
async function rate(n: number, concurrency: number, op: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await op();
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

const rows: string[] = [];
function report(name: string, unit: string, r: { off: number[]; on: number[]; off2: number[] }): void {
  const off = median(r.off);
  rows.push(
    `| ${name} | ${formatNumber(off)} ${unit} | ${formatNumber(median(r.off2))} ${unit} | ${(median(r.off2) / off).toFixed(2)} | ${formatNumber(median(r.on))} ${unit} | ${(median(r.on) / off).toFixed(2)} |`,
  );
  console.log(`${name}: off ${formatRounds(r.off)} | off again ${formatRounds(r.off2)} | on ${formatRounds(r.on)}`);
}

// 1. HTTP: the kernel app in process (shell, auth, rate limit, zod body), POST /api/v1/bench/say, 64 at a time.
const TOKEN = 'bench-token';
const app = await kernelApp(TOKEN);
const say = async () => (await app.fetch(new Request('http://bench/api/v1/bench/say', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"text":"hi","times":2}' }))).text();
await rate(5_000, 64, say);
const http = () => rate(20_000, 64, say);
report('POST /api/v1/bench/say (in process)', 'req/s', await alternate(ROUNDS, { off: mode(false, http), on: mode(true, http), off2: mode(false, http) }));
await app.close();

// 2. Bus: MemoryBus publish→deliver; "on" goes through the TracedBus (producer + consumer span and the envelope field).
async function busRate(traced: boolean): Promise<number> {
  const inner = new MemoryBus({ source: 'bench' });
  const bus = traced ? new TracedBus(inner) : inner;
  let got = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  const N = 20_000;
  await bus.subscribe('bench.>', () => {
    if (++got === N) done();
  });
  const started = performance.now();
  await rate(N, 256, () => bus.publish('bench.tick.sent', { n: 1 }));
  await all;
  const r = N / ((performance.now() - started) / 1000);
  await bus.close();
  return r;
}
report('MemoryBus publish→deliver', 'events/s', await alternate(ROUNDS, { off: mode(false, () => busRate(false)), on: mode(true, () => busRate(true)), off2: mode(false, () => busRate(false)) }));

// 3. Database: one prepared statement on PGlite through the port; "on" through the traced database (one client span).
const pglite = await createPgliteDatabase({});
const traced = tracedDatabase(pglite);
const select = (db: typeof pglite) => () => rate(5_000, 1, () => db.query('SELECT 1 AS one'));
await select(pglite)();
report('PGlite SELECT 1 through the port', 'stmt/s', await alternate(ROUNDS, { off: mode(false, select(pglite)), on: mode(true, select(traced)), off2: mode(false, select(pglite)) }));
await pglite.close();

// 4. The price of an instrumented call site while off: withSpan vs calling the function.
const noop = async () => 1;
async function loop(viaSpan: boolean): Promise<number> {
  const N = 1_000_000;
  const started = performance.now();
  for (let i = 0; i < N; i++) await (viaSpan ? withSpan('x', {}, noop) : noop());
  return ((performance.now() - started) * 1e6) / N;
}
const direct: number[] = [];
const wrapped: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  direct.push(await loop(false));
  wrapped.push(await loop(true));
}
console.log(`withSpan while off: ${formatRounds(wrapped)} ns/call; direct await: ${formatRounds(direct)} ns/call`);

await tracing.shutdown();
sink.stop(true);
console.log('\n| what | off | off again | off again / off | on | on / off |\n| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
console.log(`| instrumented call site while off (withSpan around an async no-op) | ${formatNumber(median(direct))} ns (direct await) | — | — | ${formatNumber(median(wrapped))} ns (withSpan, off) | +${formatNumber(median(wrapped) - median(direct))} ns |`);
console.log(`\nspans exported to the sink: ${(exported / 1e6).toFixed(1)} MB of OTLP JSON`);
