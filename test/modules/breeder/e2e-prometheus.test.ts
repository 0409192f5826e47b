/**
 * A Prometheus-sourced objective: Debian's prometheus scrapes the simulated target every second, and the breeder
 * reads its objective with an instant query after settling. Each trial's value must be the target's Branin value
 * of that trial's parameters (so the reading came from the applied parameters, not a stale scrape).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branin } from '../../../src/modules/breeder/dev/functions.ts';
import { eventually } from '../../helpers/async.ts';
import { startTarget, type TargetProcess } from '../../helpers/breeder-target.ts';
import { PROMETHEUS_BIN, startPrometheus, type PrometheusProcess } from '../../helpers/prometheus.ts';
import { startServer, tempDir, type ServerProcess } from '../../helpers/server-process.ts';

let server: ServerProcess;
let target: TargetProcess;
let prometheus: PrometheusProcess;

beforeAll(async () => {
  target = await startTarget(['--function', 'branin']);
  [server, prometheus] = await Promise.all([
    startServer({ args: ['--data-dir', join(tempDir('capstan-breeder-prom-'), 'data')], env: { CAPSTAN_MODULES__BREEDER__ENABLED: 'true' } }),
    startPrometheus([{ job: 'target', targets: [new URL(target.url).host] }], []),
  ]);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await prometheus?.stop();
  await target?.stop();
});

describe.runIf(PROMETHEUS_BIN)('breeder with a Prometheus objective', () => {
  it('reads each trial’s value through a PromQL instant query', async () => {
    const def = {
      name: 'prom',
      space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
      objectives: [{ name: 'branin', direction: 'minimize', settle: '2500ms', source: { prometheus: { url: prometheus.url, query: 'target_objective{job="target",index="0"}' } } }],
      effectuation: { http: { url: `${target.url}/apply` } },
      run: { max_trials: 4 },
      algorithm: { sampler: 'qmc', seed: 2 },
    };
    const post = await fetch(`${server.url}/api/v1/breeder/breeders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(def) });
    expect(post.status).toBe(201);
    const { id } = (await post.json()) as { id: string };
    expect((await fetch(`${server.url}/api/v1/breeder/breeders/${id}/start`, { method: 'POST' })).status).toBe(200);
    await eventually('completed', async () => {
      const b = (await (await fetch(`${server.url}/api/v1/breeder/breeders/${id}`)).json()) as { status: string };
      return b.status === 'completed' || undefined;
    }, 60_000);
    const { items } = (await (await fetch(`${server.url}/api/v1/breeder/breeders/${id}/trials`)).json()) as { items: { state: string; params: { x1: number; x2: number }; values: number[]; error: string | null }[] };
    expect(items).toHaveLength(4);
    for (const t of items) {
      expect(t.state, t.error ?? '').toBe('complete');
      expect(t.values[0]).toBeCloseTo(branin(t.params.x1, t.params.x2), 6);
    }
  });
});
