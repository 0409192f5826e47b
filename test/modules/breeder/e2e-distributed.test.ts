/**
 * Breeders in distributed mode: two `capstan serve` instances on real PostgreSQL, Redis (BullMQ) and NATS, and the
 * simulated target as a child process. Main path with events on /api/v1/events, guardrails, stop within one
 * trial, and crash recovery: SIGKILL the instance running the loop; the other finishes with no trial lost or twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../src/kernel/http/auth.ts';
import { eventually } from '../../helpers/async.ts';
import { startTarget, type TargetProcess } from '../../helpers/breeder-target.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { startServer, type ServerProcess } from '../../helpers/server-process.ts';

const TOKEN = 'breeder-e2e-token';
const prefix = uniqueName('breed').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let servers: ServerProcess[] = [];
let target: TargetProcess;
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

type Trial = { number: number; state: string; params: Record<string, number>; values: number[] | null; observations: Record<string, number | null> | null; error: string | null; worker: string; createdAt: string };
type Breeder = { id: string; status: string; reason: string | null; trials: Record<string, number> };

async function call<T>(s: ServerProcess, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${s.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const trials = async (s: ServerProcess, id: string) => (await call<{ items: Trial[] }>(s, 'GET', `/breeder/breeders/${id}/trials?limit=1000`)).items;

function definition(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
    objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
    effectuation: { http: { url: `${target.url}/apply` } },
    algorithm: { sampler: 'tpe', seed: 11 },
    ...extra,
  };
}

/** Collects events of an SSE stream until `until` matches one. */
async function collectEvents(res: Response, until: (e: { type: string; data: Record<string, unknown> }) => boolean) {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  const seen: { type: string; data: Record<string, unknown> }[] = [];
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return seen;
    buf += dec.decode(value);
    let idx: number;
    while ((idx = buf.indexOf('\n\n')) >= 0) {
      const data = buf.slice(0, idx).split('\n').find((l) => l.startsWith('data: '));
      buf = buf.slice(idx + 2);
      if (!data) continue;
      const evt = JSON.parse(data.slice(6));
      seen.push(evt);
      if (until(evt)) {
        await reader.cancel();
        return seen;
      }
    }
  }
}

beforeAll(async () => {
  db = await createTestDatabase('breeder');
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    NATS_URL,
    CAPSTAN_PREFIX: prefix,
    CAPSTAN_AUTH__TOKENS: `[{name: e2e, sha256: ${hashToken(TOKEN)}, scopes: [admin]}]`,
    CAPSTAN_LEASES__DEFAULT_TTL_MS: '3000',
    CAPSTAN_QUEUE__STALLED_INTERVAL_MS: '2000',
    CAPSTAN_MODULES__BREEDER__ENABLED: 'true',
  };
  let t: TargetProcess;
  [servers, t] = await Promise.all([Promise.all([startServer({ env }), startServer({ env })]), startTarget(['--function', 'branin'])]);
  target = t;
}, 180_000);

afterAll(async () => {
  for (const s of servers) await s.stop('SIGTERM');
  await target?.stop();
  await db?.drop();
});

describe('breeder, distributed', () => {
  it('runs to max_trials; every trial and the completion appear on the event stream', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const created = await call<Breeder>(a, 'POST', '/breeder/breeders', definition('events', { run: { max_trials: 12 } }));
    const stream = await fetch(`${b.url}/api/v1/events?pattern=breeder.>`, { headers });
    expect(stream.status).toBe(200);
    const collected = collectEvents(stream, (e) => e.type === 'breeder.breeder.completed' && e.data.breederId === created.id);
    await call(a, 'POST', `/breeder/breeders/${created.id}/start`);
    const events = (await collected).filter((e) => e.data.breederId === created.id);
    expect(events.map((e) => e.type)).toEqual(['breeder.breeder.started', ...Array(12).fill('breeder.trial.completed'), 'breeder.breeder.completed']);
    expect(events.slice(1, -1).map((e) => e.data.number)).toEqual([...Array(12).keys()]);
    const done = await call<Breeder>(b, 'GET', `/breeder/breeders/${created.id}`);
    expect(done).toMatchObject({ status: 'completed', reason: 'max_trials', trials: { complete: 12 } });
    const { best } = await call<{ best: Trial }>(a, 'GET', `/breeder/breeders/${created.id}/best`);
    const values = events.slice(1, -1).map((e) => (e.data.values as number[])[0]!);
    expect(best.values![0]).toBe(Math.min(...values));
  });

  it('a guardrail violation fails the trial, and the best trial is a feasible one', async () => {
    const [a] = servers as [ServerProcess];
    const guardrails = [{ name: 'load', max: 50, source: { http: { url: `${target.url}/metrics.json`, path: '$.load' } } }];
    const created = await call<Breeder>(a, 'POST', '/breeder/breeders', definition('guarded', { guardrails, run: { max_trials: 16 }, algorithm: { sampler: 'random', seed: 5 } }));
    await call(a, 'POST', `/breeder/breeders/${created.id}/start`);
    await eventually('completed', async () => ((await call<Breeder>(a, 'GET', `/breeder/breeders/${created.id}`)).status === 'completed' ? true : undefined), 60_000);
    const all = await trials(a, created.id);
    expect(all).toHaveLength(16);
    const failed = all.filter((t) => t.state === 'fail');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(16);
    for (const t of all) {
      const load = (100 * (t.params.x1! + 5)) / 15;
      expect(t.state).toBe(load > 50 ? 'fail' : 'complete');
      if (t.state === 'fail') expect(t.error).toMatch(/^guardrail load: /);
    }
    const { best } = await call<{ best: Trial }>(a, 'GET', `/breeder/breeders/${created.id}/best`);
    expect(best.state).toBe('complete');
    expect(best.values![0]).toBe(Math.min(...all.filter((t) => t.state === 'complete').map((t) => t.values![0]!)));
  });

  it('stop takes effect within one trial: no trial starts after the stop', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const objectives = [{ name: 'branin', direction: 'minimize', settle: '150ms', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }];
    const created = await call<Breeder>(a, 'POST', '/breeder/breeders', definition('stoppable', { objectives, run: { max_trials: 1000, workers: 2 }, algorithm: { sampler: 'random', seed: 1 } }));
    await call(b, 'POST', `/breeder/breeders/${created.id}/start`);
    await eventually('a few trials', async () => ((await call<Breeder>(a, 'GET', `/breeder/breeders/${created.id}`)).trials.complete ?? 0) >= 4 || undefined, 30_000);
    const stopped = await call<Breeder & { finishedAt: string }>(a, 'POST', `/breeder/breeders/${created.id}/stop`);
    expect(stopped.status).toBe('stopped');
    await eventually('no trial running', async () => ((await call<Breeder>(a, 'GET', `/breeder/breeders/${created.id}`)).trials.running ?? 0) === 0 || undefined, 10_000);
    const after = await trials(a, created.id);
    expect(after.filter((t) => Date.parse(t.createdAt) > Date.parse(stopped.finishedAt))).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await trials(a, created.id)).toHaveLength(after.length);
    expect(after.every((t) => t.state === 'complete')).toBe(true);
  });

  it('SIGKILL of the instance running the loop: the other instance finishes, no trial lost or counted twice', async () => {
    const objectives = [{ name: 'branin', direction: 'minimize', settle: '300ms', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }];
    const [a] = servers as [ServerProcess];
    const created = await call<Breeder>(a, 'POST', '/breeder/breeders', definition('crashy', { objectives, run: { max_trials: 14 } }));
    const applied0 = (await target.stats()).applies;
    await call(a, 'POST', `/breeder/breeders/${created.id}/start`);
    const running = await eventually('a running trial after three complete', async () => {
      const all = await trials(a, created.id);
      return all.filter((t) => t.state === 'complete').length >= 3 ? all.find((t) => t.state === 'running') : undefined;
    }, 30_000);
    const ids = await Promise.all(servers.map(async (s) => (await call<{ instanceId: string }>(s, 'GET', '')).instanceId));
    const victim = servers[ids.indexOf(running.worker)]!;
    const survivor = servers.find((s) => s !== victim)!;
    expect(victim).toBeDefined();
    await victim.stop('SIGKILL');
    servers = [survivor];
    const done = await eventually('completed on the survivor', async () => {
      const br = await call<Breeder>(survivor, 'GET', `/breeder/breeders/${created.id}`);
      return br.status === 'completed' ? br : undefined;
    }, 60_000);
    expect(done.reason).toBe('max_trials');
    const all = await trials(survivor, created.id);
    expect(all.map((t) => t.number)).toEqual([...Array(14).keys()]);
    const abandoned = all.filter((t) => t.state === 'fail');
    expect(abandoned.map((t) => t.number)).toEqual([running.number]);
    expect(abandoned[0]!.error).toMatch(/^abandoned: /);
    expect(all.filter((t) => t.state === 'complete')).toHaveLength(13);
    const survivorId = ids[1 - ids.indexOf(running.worker)];
    expect(all.filter((t) => t.number > running.number).every((t) => t.worker === survivorId)).toBe(true);
    // The abandoned trial may or may not have reached the target before the kill; every other trial applied once.
    const applies = (await target.stats()).applies - applied0;
    expect([13, 14]).toContain(applies);
  });
});
