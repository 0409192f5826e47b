/**
 * The breeder console pages over a real server (distributed mode, console without sign-in): the list, and a
 * two-objective breeder's page whose plots, Pareto marks, best parameters and trials table agree with the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/async.ts';
import { startTarget, type TargetProcess } from '../../helpers/breeder-target.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { startServer, type ServerProcess } from '../../helpers/server-process.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess;
let target: TargetProcess;

beforeAll(async () => {
  db = await createTestDatabase('breedui');
  [server, target] = await Promise.all([
    startServer({ env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: uniqueName('bui').toLowerCase(), CAPSTAN_AUTH__ENABLED: 'false' } }),
    startTarget(['--function', 'noisy2', '--noise', '0']),
  ]);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await target?.stop();
  await db?.drop();
});

const api = async <T,>(path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${server.url}/api/v1/breeder${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.ok, `${path}: ${res.status}`).toBe(true);
  return res.json() as Promise<T>;
};
const html = async (path: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, text: await res.text() };
};
/** The HTML of the element that starts at the first match of `open` and ends at the first `close` after it. */
const part = (text: string, open: RegExp, close: string): string => {
  const at = text.search(open);
  expect(at, String(open)).toBeGreaterThanOrEqual(0);
  return text.slice(at, text.indexOf(close, at) + close.length);
};

type Trial = { number: number; state: string; params: Record<string, number>; values: number[] | null };

describe('breeder console', () => {
  it('shows the list, and a breeder page whose plots and tables match the trials', async () => {
    const name = 'ui-<two>';
    const safe = 'ui-two';
    await api('/breeders', {
      name: safe,
      space: { x0: { type: 'float', low: 0, high: 1 }, x1: { type: 'float', low: 0, high: 1 }, x2: { type: 'float', low: 0, high: 1 } },
      objectives: [
        { name: 'f1', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.objectives[0]' } } },
        { name: 'f2', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.objectives[1]' } } },
      ],
      effectuation: { http: { url: `${target.url}/apply` } },
      run: { max_trials: 12 },
      algorithm: { sampler: 'random', seed: 4 },
    });
    await api(`/breeders/${safe}/start`, {});
    await eventually('completed', async () => ((await api<{ status: string }>(`/breeders/${safe}`)).status === 'completed' ? true : undefined), 120_000);
    const trials = (await api<{ items: Trial[] }>(`/breeders/${safe}/trials`)).items;
    const { front } = await api<{ front: Trial[] }>(`/breeders/${safe}/pareto`);
    const { best } = await api<{ best: Trial }>(`/breeders/${safe}/best`);
    const complete = trials.filter((t) => t.state === 'complete');
    expect(complete.length).toBe(12);

    const list = await html('/ui/breeder');
    expect(list.status).toBe(200);
    const row = part(list.text, new RegExp(`<a href="/ui/breeder/${safe}">`), '</tr>');
    expect(row).toContain('completed');
    expect(row).toMatch(/<td>12<\/td><td>0<\/td><td>0<\/td>/);

    const page = await html(`/ui/breeder/${safe}`);
    expect(page.status).toBe(200);
    for (const objective of ['f1', 'f2']) {
      const plot = part(page.text, new RegExp(`<section class="wide objective-plot" data-objective="${objective}"`), '</section>');
      expect(plot.match(/<circle /g)).toHaveLength(12);
      expect(plot).toContain('class="best-line"');
    }
    const pareto = part(page.text, /<section class="wide" id="pareto"/, '</section>');
    expect(pareto.match(/<circle /g)).toHaveLength(12);
    const marked = [...pareto.matchAll(/class="point marked" data-trial="(\d+)"/g)].map((m) => Number(m[1]));
    expect(marked.sort((a, b) => a - b)).toEqual(front.map((t) => t.number).sort((a, b) => a - b));
    const bestSection = part(page.text, /<section id="best"/, '</section>');
    expect(bestSection).toContain(`Trial ${best.number}:`);
    expect(bestSection).toContain(`Pareto front: ${front.length} trial`);
    const table = part(page.text, /<table id="trials"/, '</table>');
    expect(table.match(/<tr>/g)).toHaveLength(13);

    const missing = await html(`/ui/breeder/${encodeURIComponent(name)}`);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('ui-&lt;two&gt;');
    expect(missing.text).not.toContain('ui-<two>');
  }, 180_000);
});
