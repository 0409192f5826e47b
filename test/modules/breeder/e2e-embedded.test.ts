/**
 * A user's path, embedded: `capstan serve` and `capstan dev target` as child processes; a breeder created with the
 * CLI from YAML optimizes Branin through the target until max_trials, then the trials, best and events are checked.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/async.ts';
import { startTarget, type TargetProcess } from '../../helpers/breeder-target.ts';
import { runCapstan, startServer, tempDir, type ServerProcess } from '../../helpers/server-process.ts';

const dir = tempDir('capstan-breeder-');
let server: ServerProcess;
let target: TargetProcess;
let env: Record<string, string>;

// A fresh PGlite initialises in about 5 s on an idle machine and took over 60 s on a loaded one: wait long for it.
beforeAll(async () => {
  [server, target] = await Promise.all([
    startServer({ args: ['--data-dir', join(dir, 'data')], env: { CAPSTAN_MODULES__BREEDER__ENABLED: 'true', CAPSTAN_MODULES__BREEDER__COMMAND_EFFECTUATION: 'true' }, timeoutMs: 180_000 }),
    startTarget(['--function', 'branin']),
  ]);
  env = { CAPSTAN_SERVER: server.url };
}, 200_000);
afterAll(async () => {
  await server?.stop();
  await target?.stop();
});

const cli = (...args: string[]) => runCapstan(['breeder', ...args], { env });
const api = async <T>(path: string): Promise<T> => (await fetch(`${server.url}/api/v1/breeder${path}`)).json() as Promise<T>;

function definition(name: string, extra = ''): string {
  return `name: ${name}
space:
  x1: { type: float, low: -5, high: 10 }
  x2: { type: float, low: 0, high: 15 }
objectives:
  - name: branin
    direction: minimize
    source: { http: { url: ${target.url}/metrics.json, path: $.value } }
observations:
  - name: load
    source: { prometheus_unused: 1 }
effectuation:
  http: { url: ${target.url}/apply, body: { params: "{{ params }}" } }
algorithm: { sampler: tpe, seed: 7, options: { n_startup_trials: 8 } }
${extra}`;
}

// Each test runs the CLI several times and a breeder to its end: on a loaded machine that takes minutes, not seconds.
describe('breeder, embedded', { timeout: 240_000 }, () => {
  it('create -f with a bad definition exits 1 naming the field', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, definition('bad'));
    const r = await cli('create', '-f', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('observations.0.source');
  });

  it('optimizes Branin through the target until max_trials', async () => {
    const file = join(dir, 'branin.yaml');
    writeFileSync(file, definition('branin', 'run: { max_trials: 30 }').replace(/observations:\n.*\n.*\n/, 'observations:\n  - { name: load, source: { http: { url: ' + target.url + '/metrics.json, path: $.load } } }\n'));
    const created = await cli('create', '-f', file, '--json');
    expect(created.code, created.stderr).toBe(0);
    const id = JSON.parse(created.stdout).id as string;
    const started = await cli('start', 'branin');
    expect(started.code, started.stderr).toBe(0);
    const done = await eventually('breeder completed', async () => {
      const b = await api<{ status: string; reason: string; trials: Record<string, number> }>(`/breeders/${id}`);
      return b.status === 'completed' ? b : undefined;
    }, 150_000);
    expect(done.reason).toBe('max_trials');
    expect(done.trials).toEqual({ complete: 30 });
    expect((await target.stats()).applies).toBe(30);
    const page = await api<{ items: { number: number; values: number[]; observations: { load: number }; params: { x1: number } }[]; nextAfter: number | null }>(`/breeders/${id}/trials?limit=1000`);
    expect(page.items.map((t) => t.number)).toEqual([...Array(30).keys()]);
    for (const t of page.items) expect(t.observations.load).toBeCloseTo((100 * (t.params.x1 + 5)) / 15, 6);
    const best = await cli('best', 'branin', '--json');
    expect(best.code, best.stderr).toBe(0);
    const bestValue = JSON.parse(best.stdout).values[0] as number;
    expect(bestValue).toBe(Math.min(...page.items.map((t) => t.values[0]!)));
    // Better than the first 8 random start-up trials: the sampler learned from the target.
    expect(bestValue).toBeLessThan(Math.min(...page.items.slice(0, 8).map((t) => t.values[0]!)));
    const table = await cli('trials', 'branin', '--limit', '5');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/NUMBER\s+STATE/);
  });

  it('rolls back to the baseline after consecutive failures, then stops', async () => {
    const def = {
      name: 'rolling',
      space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
      objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
      // Load is 100·(x1+5)/15: a ceiling of 0.001 fails every sampled trial.
      guardrails: [{ name: 'load', max: 0.001, source: { http: { url: `${target.url}/metrics.json`, path: '$.load' } } }],
      effectuation: { http: { url: `${target.url}/apply` } },
      rollback: { after_consecutive_failures: 3, to: 'baseline', baseline: { x1: 1.5, x2: 2.5 }, then: 'stop' },
      run: { max_trials: 50 },
      algorithm: { sampler: 'random', seed: 4 },
    };
    const bad = await fetch(`${server.url}/api/v1/breeder/breeders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...def, rollback: { ...def.rollback, baseline: { x1: 99 } } }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('rollback.baseline.x1');
    const post = await fetch(`${server.url}/api/v1/breeder/breeders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(def) });
    expect(post.status).toBe(201);
    const r = await cli('start', 'rolling');
    expect(r.code, r.stderr).toBe(0);
    const b = await eventually('stopped', async () => {
      const v = await api<{ status: string; reason: string; trials: Record<string, number> }>('/breeders/rolling');
      return v.status === 'stopped' ? v : undefined;
    }, 120_000);
    expect(b.trials).toEqual({ fail: 3 });
    expect(b.reason).toMatch(/^stopped: rolled back to baseline/);
    expect((await target.stats()).params).toEqual({ x1: 1.5, x2: 2.5 });
  });

  it('PUT refuses a running breeder, and a space change with trials unless forced', async () => {
    const path = `${server.url}/api/v1/breeder/breeders/branin`;
    const current = (await (await fetch(path)).json()) as { definition: Record<string, unknown> };
    const changed: Record<string, unknown> = { ...current.definition, space: { x1: { type: 'float', low: -5, high: 0 }, x2: { type: 'float', low: 0, high: 15 } } };
    const put = (q: string, body: unknown) => fetch(path + q, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await put('', changed);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('"query.force"');
    expect((await put('?force=true', changed)).status).toBe(200);
    // A slower objective (settle) and one more trial: not a change of space or objectives, so no force needed.
    const objectives = (changed.objectives as Record<string, unknown>[]).map((o) => ({ ...o, settle: '1s' }));
    expect((await put('', { ...changed, objectives, run: { max_trials: 31 } })).status).toBe(200);
    const r = await cli('start', 'branin');
    expect(r.code, r.stderr).toBe(0);
    expect((await put('', changed)).status).toBe(409);
    await eventually('completed again', async () => ((await api<{ status: string }>('/breeders/branin')).status === 'completed' ? true : undefined), 120_000);
    const { items } = await api<{ items: { number: number; params: { x1: number } }[] }>('/breeders/branin/trials?after=29');
    expect(items.map((t) => t.number)).toEqual([30]);
    expect(items[0]!.params.x1).toBeLessThanOrEqual(0);
  });

  it('command effectuation passes parameters as argv (no shell)', async () => {
    const def = {
      name: 'by-command',
      space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'int', low: 0, high: 15 } },
      objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
      effectuation: { command: { argv: ['curl', '-sf', '-H', 'content-type: application/json', '-d', '{"x1": {{ params.x1 }}, "x2": {{ params.x2 }}}', `${target.url}/apply`] } },
      run: { max_trials: 3 },
      algorithm: { sampler: 'random', seed: 9 },
    };
    expect((await fetch(`${server.url}/api/v1/breeder/breeders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(def) })).status).toBe(201);
    expect((await cli('start', 'by-command')).code).toBe(0);
    await eventually('completed', async () => ((await api<{ status: string }>('/breeders/by-command')).status === 'completed' ? true : undefined), 120_000);
    const { items } = await api<{ items: { state: string; params: { x1: number; x2: number }; error: string | null }[] }>('/breeders/by-command/trials');
    expect(items.map((t) => [t.state, t.error])).toEqual(Array(3).fill(['complete', null]));
    expect((await target.stats()).params).toEqual(items[2]!.params);
  });

  it('a workflow starts a breeder by action and resumes on its breeder.breeder.completed event', async () => {
    const wf = `name: tune
start: tuning
states:
  tuning: { action: { name: breeder.start, input: { breeder: "{{ object.breeder }}" }, on: { ok: waiting, error: failed } } }
  waiting: { callback: { to: [done] } }
  done: { action: { name: breeder.status, input: { breeder: "{{ object.breeder }}" }, on: { ok: reported, error: failed } } }
  reported: {}
  failed: {}
connectors:
  - name: completed
    subject: breeder.breeder.completed
    callback: { foreignId: "tune-{{ event.data.name }}", status: waiting, to: done, object: { breeder: "{{ event.data.name }}", reason: "{{ event.data.reason }}" } }
`;
    const applied = await fetch(`${server.url}/api/v1/workflow/definitions`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: wf });
    expect(applied.status, await applied.clone().text()).toBe(201);
    const def = {
      name: 'unified',
      space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
      objectives: [{ name: 'branin', direction: 'minimize', settle: '300ms', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
      effectuation: { http: { url: `${target.url}/apply` } },
      run: { max_trials: 3 },
      algorithm: { sampler: 'random', seed: 2 },
    };
    expect((await fetch(`${server.url}/api/v1/breeder/breeders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(def) })).status).toBe(201);
    const trig = await fetch(`${server.url}/api/v1/workflow/workflows/tune/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ foreignId: 'tune-unified', object: { breeder: 'unified' } }) });
    expect(trig.status).toBe(201);
    const { runId } = (await trig.json()) as { runId: string };
    const res = await fetch(`${server.url}/api/v1/workflow/runs/${runId}/await?status=reported&timeout=60s`);
    expect(res.status).toBe(200);
    const run = (await res.json()) as { object: { reason: string; outputs: { done: { status: string; trials: Record<string, number>; best: { number: number } } } } };
    expect(run.object.reason).toBe('max_trials');
    expect(run.object.outputs.done).toMatchObject({ status: 'completed', trials: { complete: 3 } });
    expect(run.object.outputs.done.best.number).toBeGreaterThanOrEqual(0);
  });

  it('completes on quality achieved, and on max_duration', async () => {
    const base = {
      space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
      effectuation: { http: { url: `${target.url}/apply` } },
      algorithm: { sampler: 'random', seed: 3 },
    };
    const source = { http: { url: `${target.url}/metrics.json`, path: '$.value' } };
    const create = (body: unknown) => fetch(`${server.url}/api/v1/breeder/breeders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // Branin is below 30 on much of the box: reached within a few random trials, far before max_trials.
    expect((await create({ ...base, name: 'good-enough', objectives: [{ name: 'branin', direction: 'minimize', quality_threshold: 30, source }], run: { max_trials: 500, stop_when_quality_achieved: true } })).status).toBe(201);
    expect((await create({ ...base, name: 'timed', objectives: [{ name: 'branin', direction: 'minimize', settle: '200ms', source }], run: { max_trials: 500, max_duration: '1s' } })).status).toBe(201);
    const ended = async (name: string) =>
      eventually(`${name} completed`, async () => {
        const b = await api<{ status: string; reason: string; trials: Record<string, number> }>(`/breeders/${name}`);
        return b.status === 'completed' ? b : undefined;
      }, 120_000);
    // One after the other: both tune the one target.
    expect((await cli('start', 'good-enough')).code).toBe(0);
    const good = await ended('good-enough');
    expect(good.reason).toBe('quality');
    const { items } = await api<{ items: { values: number[] }[] }>('/breeders/good-enough/trials');
    expect(items.at(-1)!.values[0]).toBeLessThanOrEqual(30);
    expect(items.slice(0, -1).every((t) => t.values[0]! > 30)).toBe(true);
    expect((await cli('start', 'timed')).code).toBe(0);
    const timed = await ended('timed');
    expect(timed.reason).toBe('max_duration');
    // About five 200 ms trials fit in 1 s; the bound is loose, only far from 500.
    expect(timed.trials.complete).toBeLessThan(20);
  });

  it('cooperating breeders feed each other’s trials to their samplers (grid: the second takes only the points the first left)', async () => {
    const base = (name: string, maxTrials: number) => ({
      name,
      space: { x1: { type: 'int', low: 0, high: 3 }, x2: { type: 'int', low: 0, high: 2 } },
      objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
      effectuation: { http: { url: `${target.url}/apply` } },
      run: { max_trials: maxTrials },
      algorithm: { sampler: 'grid', seed: 5 },
      cooperation: { group: 'grid-pair', share: 'all' },
    });
    const create = (body: unknown) => fetch(`${server.url}/api/v1/breeder/breeders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ended = (name: string) =>
      eventually(`${name} completed`, async () => {
        const b = await api<{ status: string; reason: string }>(`/breeders/${name}`);
        return b.status === 'completed' ? b : undefined;
      }, 120_000);
    const points = async (name: string) => (await api<{ items: { state: string; params: { x1: number; x2: number } }[] }>(`/breeders/${name}/trials`)).items.filter((t) => t.state === 'complete').map((t) => `${t.params.x1},${t.params.x2}`);
    expect((await create(base('grid-a', 7))).status).toBe(201);
    expect((await cli('start', 'grid-a')).code).toBe(0);
    expect((await ended('grid-a')).reason).toBe('max_trials');
    expect((await create(base('grid-b', 100))).status).toBe(201);
    expect((await cli('start', 'grid-b')).code).toBe(0);
    expect((await ended('grid-b')).reason).toBe('exhausted');
    const [a, b] = [await points('grid-a'), await points('grid-b')];
    expect(a).toHaveLength(7);
    expect(b).toHaveLength(5);
    expect(new Set([...a, ...b]).size).toBe(12);
  });
});
