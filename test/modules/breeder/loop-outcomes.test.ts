/**
 * What the loop leaves behind for each way a trial ends, on real PostgreSQL and a real HTTP target on loopback:
 * a failing evaluator leaves the trial's error in its row (what the trials API reads) and a log line; an unreadable
 * observation leaves its reason on the complete trial; `breeder_trials_total` counts every ending by state,
 * including trials abandoned by a dead worker and the pruned trial of an exhausted grid, and passes promtool.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../../src/kernel/db/postgres-database.ts';
import type { Job, Logger } from '../../../src/kernel/index.ts';
import { parseDefinition } from '../../../src/modules/breeder/model/definition.ts';
import { runSlot, type LoopDeps, type SlotJob } from '../../../src/modules/breeder/runtime/loop.ts';
import { createBreederMetrics } from '../../../src/modules/breeder/runtime/metrics.ts';
import { createBreederStore, type BreederStore } from '../../../src/modules/breeder/store/index.ts';
import { PG_URL, uniqueName } from '../../helpers/env.ts';
import { ALL_MODULE_MIGRATIONS } from '../../helpers/module-migrations.ts';

const schema = uniqueName('breedout').toLowerCase();
let db: Database;
let store: BreederStore;
let target: Server;
let base: string;

// The target: /apply accepts anything; /ok answers a value, /broken is an evaluator that fails (500).
beforeAll(async () => {
  db = await createPostgresDatabase({ url: PG_URL, schema });
  await db.migrate(ALL_MODULE_MIGRATIONS);
  store = createBreederStore(db);
  target = createServer((req, res) => {
    req.resume();
    if (req.url === '/broken') {
      res.writeHead(500).end('evaluator down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: 3 }));
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
}, 180_000);
afterAll(async () => {
  await new Promise((r) => target?.close(r));
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.close();
});

/** A logger that keeps its warn lines. */
function recordingLog(): { log: Logger; warns: { obj: Record<string, unknown>; msg: string }[] } {
  const warns: { obj: Record<string, unknown>; msg: string }[] = [];
  const log = { warn: (obj: Record<string, unknown>, msg: string) => warns.push({ obj, msg }), info() {}, debug() {}, error() {} } as unknown as Logger;
  return { log, warns };
}

function deps(registry: Registry, log: Logger): LoopDeps {
  return { store, metrics: createBreederMetrics(registry), log, instanceId: 'test-instance', policy: { commandsEnabled: false } };
}

function job(data: SlotJob): Job<SlotJob> {
  return { id: 'j', name: 'slot', queue: 'breeder', data, attempt: 1, progress: async () => {}, signal: new AbortController().signal };
}

async function startBreeder(def: Record<string, unknown>) {
  const row = await store.create(parseDefinition(def));
  return store.start(row.id);
}

const counted = async (registry: Registry) =>
  Object.fromEntries((await registry.getSingleMetric('breeder_trials_total')!.get()).values.map((v) => [String(v.labels.state), v.value]));

describe('breeder loop outcomes', { timeout: 60_000 }, () => {
  it('a failing evaluator leaves each trial failed with its error in the row and a log line', async () => {
    const b = await startBreeder({
      name: uniqueName('evalfail'),
      space: { x: { type: 'float', low: 0, high: 1 } },
      objectives: [{ name: 'y', direction: 'minimize', source: { http: { url: `${base}/broken`, path: '$.value' } } }],
      effectuation: { http: { url: `${base}/apply` } },
      run: { max_trials: 3 },
      algorithm: { sampler: 'random', seed: 1 },
    });
    const registry = new Registry();
    const { log, warns } = recordingLog();
    const r = await runSlot(job({ breederId: b.id, generation: b.generation, slot: 0 }), deps(registry, log));
    expect(r.ended).toBe('max_trials');
    const rows = await store.trials.page(b.id, -1, 100);
    expect(rows.map((t) => t.state)).toEqual(['fail', 'fail', 'fail']);
    for (const t of rows) expect(t.error).toMatch(/^reconnaissance of y: .*500/);
    const logged = warns.filter((w) => w.msg === 'trial failed');
    expect(logged.map((w) => w.obj.trial)).toEqual([0, 1, 2]);
    expect(String(logged[0]!.obj.error)).toMatch(/reconnaissance of y/);
    expect(await counted(registry)).toEqual({ fail: 3 });
  });

  it('an unreadable observation keeps the trial complete and records why its reading is null', async () => {
    const b = await startBreeder({
      name: uniqueName('obsfail'),
      space: { x: { type: 'float', low: 0, high: 1 } },
      objectives: [{ name: 'y', direction: 'minimize', source: { http: { url: `${base}/ok`, path: '$.value' } } }],
      observations: [{ name: 'load', source: { http: { url: `${base}/broken`, path: '$.value' } } }],
      effectuation: { http: { url: `${base}/apply` } },
      run: { max_trials: 2 },
      algorithm: { sampler: 'random', seed: 1 },
    });
    const registry = new Registry();
    const { log, warns } = recordingLog();
    await runSlot(job({ breederId: b.id, generation: b.generation, slot: 0 }), deps(registry, log));
    const rows = await store.trials.page(b.id, -1, 100);
    expect(rows.map((t) => [t.state, t.values, t.observations])).toEqual([
      ['complete', [3], { load: null }],
      ['complete', [3], { load: null }],
    ]);
    for (const t of rows) expect(t.error).toMatch(/^observation load could not be read: .*500/);
    expect(warns.filter((w) => w.obj.state === 'complete').length).toBe(2);
    expect(await counted(registry)).toEqual({ complete: 2 });
  });

  it('counts abandoned trials as fail and the pruned trial of an exhausted grid, matching the trial rows', async () => {
    const b = await startBreeder({
      name: uniqueName('abandon'),
      space: { c: { type: 'categorical', choices: ['a', 'b'] } },
      objectives: [{ name: 'y', direction: 'minimize', source: { http: { url: `${base}/ok`, path: '$.value' } } }],
      effectuation: { http: { url: `${base}/apply` } },
      run: { max_trials: 10 },
      algorithm: { sampler: 'grid' },
    });
    // A worker claimed trial 0 on slot 0 and died: the slot's next run abandons it.
    expect(await store.trials.claim(b.id, b.generation, 10, 0, 'dead-instance')).toBe(0);
    const registry = new Registry();
    const r = await runSlot(job({ breederId: b.id, generation: b.generation, slot: 0 }), deps(registry, recordingLog().log));
    expect(r.ended).toBe('exhausted');
    const counts = await store.trials.counts(b.id);
    expect(counts).toEqual({ fail: 1, complete: 2, pruned: 1 });
    expect(await counted(registry)).toEqual(counts);
    const text = await registry.metrics();
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    if (!promtool && !process.env.CI) return console.warn('promtool not installed (Debian package prometheus); skipping the format check');
    const check = spawnSync(promtool!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it('a sampler that cannot be built fails the breeder with the reason (status and event) instead of the job failing again and again', async () => {
    const b = await startBreeder({
      name: uniqueName('badsampler'),
      space: { x: { type: 'float', low: 0, high: 1 } },
      objectives: [{ name: 'y', direction: 'minimize', source: { http: { url: `${base}/ok`, path: '$.value' } } }],
      effectuation: { http: { url: `${base}/apply` } },
      run: { max_trials: 5 },
      algorithm: { sampler: 'tpe', seed: 1 },
    });
    // A definition stored before today's rules (gamma_min above gamma_max is refused at create time now).
    await db.query(`UPDATE breeder_breeders SET definition = jsonb_set(definition, '{algorithm,options}', definition->'algorithm'->'options' || '{"gamma_min": 30, "gamma_max": 2}') WHERE id = $1`, [b.id]);
    const { log } = recordingLog();
    const r = await runSlot(job({ breederId: b.id, generation: b.generation, slot: 0 }), deps(new Registry(), log));
    expect(r.ended).toBe('failed');
    const after = await store.get(b.id);
    expect(after.status).toBe('failed');
    expect(after.reason).toMatch(/^the sampler cannot be built: .*gamma_min/);
    expect(await store.trials.counts(b.id)).toEqual({});
    const events = await db.query<{ data: { reason: string } }>(`SELECT data FROM kernel_outbox WHERE type = 'breeder.breeder.failed' AND data->>'breederId' = $1`, [b.id]);
    expect(events.map((e) => e.data.reason)).toEqual([after.reason]);
    // A failed breeder starts again once its definition is fixed (here: it is still broken, so it fails again at once).
    const again = await store.start(b.id);
    expect((await runSlot(job({ breederId: b.id, generation: again.generation, slot: 0 }), deps(new Registry(), log))).ended).toBe('failed');
  });

  it('a sampler that throws while sampling fails the breeder and the trial it was sampling, with the reason', async () => {
    const b = await startBreeder({
      name: uniqueName('throwsampler'),
      space: { x: { type: 'float', low: 0, high: 1 } },
      objectives: [{ name: 'y', direction: 'minimize', source: { http: { url: `${base}/ok`, path: '$.value' } } }],
      effectuation: { http: { url: `${base}/apply` } },
      run: { max_trials: 5 },
      algorithm: { sampler: 'random', seed: 1 },
    });
    let calls = 0;
    const throwing = () => ({
      name: 'random' as const,
      sample: () => {
        calls++;
        throw new Error('no proposal for this history');
      },
    });
    const r = await runSlot(job({ breederId: b.id, generation: b.generation, slot: 0 }), { ...deps(new Registry(), recordingLog().log), samplerFor: throwing });
    expect([r.ended, calls]).toEqual(['failed', 1]);
    const after = await store.get(b.id);
    expect([after.status, after.reason]).toEqual(['failed', 'the sampler failed: no proposal for this history']);
    const rows = await store.trials.page(b.id, -1, 100);
    expect(rows.map((t) => [t.number, t.state, t.error])).toEqual([[0, 'fail', 'the sampler failed: no proposal for this history']]);
    const events = await db.query<{ type: string }>(`SELECT type FROM kernel_outbox WHERE data->>'breederId' = $1 AND type IN ('breeder.breeder.failed', 'breeder.trial.failed') ORDER BY id`, [b.id]);
    expect(events.map((e) => e.type)).toEqual(['breeder.trial.failed', 'breeder.breeder.failed']);
  });

  it('names a missing breeder, target or credential once: "breeder \'nope\' not found"', async () => {
    await expect(store.get('nope')).rejects.toThrow(/^breeder 'nope' not found$/);
    await expect(store.targets.get('nope')).rejects.toThrow(/^target 'nope' not found$/);
    await expect(store.credentials.get('nope')).rejects.toThrow(/^credential 'nope' not found$/);
  });
});
