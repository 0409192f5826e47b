/**
 * Memory per breeder: the heap one loop slot holds for its breeder, i.e. its incremental trial history (rows and the
 * samplers' records) and a TPE sampler after one proposal (its caches), for 20 breeders with T stored trials of 4
 * parameters each, on the shared PostgreSQL (a schema of its own, dropped after). Heap measured after a full GC
 * before and after; the figure is the difference divided by the number of breeders.
 * `bun bench/breeder-memory.ts [T]` (default 1000) prints one JSON line.
 */
import { createPostgresDatabase } from '../src/kernel/db/postgres-database.ts';
import { parseDefinition } from '../src/modules/breeder/model/definition.ts';
import { TrialHistory } from '../src/modules/breeder/runtime/trial-history.ts';
import { createSampler } from '../src/modules/breeder/samplers/index.ts';
import { createBreederStore } from '../src/modules/breeder/store/index.ts';
import { PG_URL } from '../test/helpers/env.ts';
import { ALL_MODULE_MIGRATIONS } from '../test/helpers/module-migrations.ts';
const schema = 'prof_breeder_mem_' + Math.random().toString(36).slice(2, 8);
const db = await createPostgresDatabase({ url: PG_URL, schema });
await db.migrate(ALL_MODULE_MIGRATIONS);
const store = createBreederStore(db);
const B = 20, T = Number(process.argv[2] ?? 1000);
const space = { a: { type: 'float', low: 0, high: 1 }, b: { type: 'float', low: 0, high: 1 }, c: { type: 'int', low: 1, high: 100 }, d: { type: 'categorical', choices: ['x', 'y', 'z'] } };
const ids: string[] = [];
for (let i = 0; i < B; i++) {
  const r = await store.create(parseDefinition({ name: `mem${i}`, space, objectives: [{ name: 'v', direction: 'minimize', source: { http: { url: 'http://127.0.0.1:9/v', path: '$.v' } } }], effectuation: { http: { url: 'http://127.0.0.1:9/a' } }, run: { max_trials: T } }));
  await db.query(`INSERT INTO breeder_trials (breeder_id, number, state, params, "values", slot, generation, worker, durations, finished_at) SELECT $1, g, 'complete', jsonb_build_object('a', random(), 'b', random(), 'c', 1 + (g % 100), 'd', 'x'), jsonb_build_array(random()), 0, 1, 'w', '{"effectuate": 1}'::jsonb, now() FROM generate_series(0, $2::int - 1) g`, [r.id, T]);
  ids.push(r.id);
}
const heap = () => { Bun.gc(true); return process.memoryUsage().heapUsed; };
const before = heap();
const keep: unknown[] = [];
for (const id of ids) {
  const h = new TrialHistory((from) => store.trials.since(id, from));
  const { records } = await h.refresh();
  const s = createSampler({ sampler: 'tpe', seed: 1 }, { space: space as any, directions: ['minimize'] });
  s.sample({ trials: records, number: T });
  keep.push(h, s);
}
const after = heap();
console.log(JSON.stringify({ breeders: B, trialsEach: T, params: 4, heapPerBreederKB: Math.round((after - before) / B / 1024) }));
await db.query(`DROP SCHEMA ${schema} CASCADE`);
await db.close();
