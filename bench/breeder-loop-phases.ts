/**
 * Where the breeder loop's time per trial goes, in one process (no server, no queue): runSlot against a target that
 * answers at once, N = 200 trials per sampler (random, tpe), with each of the loop's database calls timed (claim with
 * the history read, parameters, outcome) beside the phase histogram (sample, effectuate, settle, reconnoiter).
 * Complements bench/breeder-loop.ts, whose per-trial figure does not say which part is the database.
 * `bun bench/breeder-loop-phases.ts` prints one JSON line per sampler.
 */
import { Registry } from 'prom-client';
import { createPostgresDatabase } from '../src/kernel/db/postgres-database.ts';
import { parseDefinition } from '../src/modules/breeder/model/definition.ts';
import { runSlot } from '../src/modules/breeder/runtime/loop.ts';
import { createBreederMetrics } from '../src/modules/breeder/runtime/metrics.ts';
import { createBreederStore } from '../src/modules/breeder/store/index.ts';
import { PG_URL } from '../test/helpers/env.ts';
import { ALL_MODULE_MIGRATIONS } from '../test/helpers/module-migrations.ts';
const schema = 'prof_breeder_' + Math.random().toString(36).slice(2, 8);
const db = await createPostgresDatabase({ url: PG_URL, schema });
await db.migrate(ALL_MODULE_MIGRATIONS);
const store = createBreederStore(db);
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async (req) => { if (req.method === 'POST') { await req.arrayBuffer(); return Response.json({ ok: true }); } return Response.json({ value: 1 }); } });
const url = `http://127.0.0.1:${server.port}`;
const times: Record<string, number[]> = {};
const wrap = (obj: any, name: string, label: string) => { const f = obj[name].bind(obj); obj[name] = async (...a: any[]) => { const t = performance.now(); try { return await f(...a); } finally { (times[label] ??= []).push(performance.now() - t); } }; };
for (const n of ['claimAndRead', 'setParams', 'finish']) wrap(store.trials, n, n);
const N = 200;
for (const sampler of ['random', 'tpe']) {
  for (const k of Object.keys(times)) delete times[k];
  const row = await store.create(parseDefinition({ name: 'prof-' + sampler, space: { x: { type: 'float', low: 0, high: 1 }, y: { type: 'float', low: 0, high: 1 } }, objectives: [{ name: 'v', direction: 'minimize', source: { http: { url: `${url}/value`, path: '$.value' } } }], effectuation: { http: { url: `${url}/apply` } }, run: { max_trials: N }, algorithm: { sampler, seed: 1 } }));
  const b = await store.start(row.id);
  const registry = new Registry();
  const t0 = performance.now();
  await runSlot({ id: 'j', name: 'slot', queue: 'breeder', data: { breederId: b.id, generation: b.generation, slot: 0 }, attempt: 1, progress: async () => {}, signal: new AbortController().signal } as any, { store, metrics: createBreederMetrics(registry), log: { warn() {}, info() {}, debug() {}, error() {} } as any, instanceId: 'prof', policy: { commandsEnabled: false } });
  const total = (performance.now() - t0) / N;
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const phases = Object.fromEntries((await registry.getSingleMetric('breeder_trial_phase_seconds')!.get()).values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_sum')).map((v) => [v.labels.phase, (v.value * 1000 / N).toFixed(2)]));
  console.log(JSON.stringify([sampler, 'ms/trial', total.toFixed(2), 'db medians', Object.fromEntries(Object.entries(times).map(([k, v]) => [k, med(v).toFixed(2)])), 'db means', Object.fromEntries(Object.entries(times).map(([k, v]) => [k, (v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)])), 'phase means', phases]));
}
await db.query(`DROP SCHEMA ${schema} CASCADE`);
await db.close();
server.stop(true);
