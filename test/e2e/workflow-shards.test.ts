/**
 * Step shards spread over `capstan serve` instances (issue 7, item 7): with two instances each holds its share of
 * every step's shards and both do step work; a third that joins gets its share; one stopped with SIGTERM and one
 * killed with SIGKILL hand theirs to the rest. Runs triggered meanwhile all complete, each step called once per run
 * while shards move cleanly (at least once across the SIGKILL).
 */
import { afterAll, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { eventually } from '../helpers/async.ts';
import { removeDeploymentData } from '../helpers/deployment-cleanup.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { startStepTarget } from './workflow-faults-target.ts';

const TOKEN = 'wf-shards-token';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const WF = 'sharded';
const SHARDS = 4;
const NEXT: Record<string, string> = { a: 'b', b: 'done' };
const prefix = uniqueName('wfsh').toLowerCase();
const target = startStepTarget(NEXT, { min: 10, max: 40 });
const servers: ServerProcess[] = [];
let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  target.stop();
  await removeDeploymentData(prefix);
  await db?.drop();
}, 60_000);

async function start(): Promise<ServerProcess> {
  const s = await startServer({
    env: {
      DATABASE_URL: db!.url,
      REDIS_URL,
      NATS_URL,
      CAPSTAN_PREFIX: prefix,
      CAPSTAN_AUTH__TOKENS: `[{name: t, sha256: ${hashToken(TOKEN)}, scopes: [admin]}]`,
      CAPSTAN_LEASES__DEFAULT_TTL_MS: '2000',
      CAPSTAN_MODULES__WORKFLOW__ROLE_TTL_MS: '2000',
      CAPSTAN_MODULES__WORKFLOW__SWEEP_INTERVAL_MS: '1000',
      CAPSTAN_ROLES__HEARTBEAT_MS: '200',
      CAPSTAN_ROLES__MEMBER_TIMEOUT_MS: '1500',
    },
  });
  servers.push(s);
  return s;
}

/** Sum of a metric's samples on one instance whose labels include `labels`. */
async function metric(s: ServerProcess, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`, { headers })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** Shards of each step held by each instance: [[a, b], ...] in `on` order. */
async function holdings(on: ServerProcess[]): Promise<number[][]> {
  return Promise.all(on.map(async (s) => [await metric(s, 'roles_held', { set: `${WF}/a` }), await metric(s, 'roles_held', { set: `${WF}/b` })]));
}

/** True when every step's shards are all held, split over `on` with counts differing by at most one. */
async function spread(on: ServerProcess[]): Promise<boolean> {
  const h = await holdings(on);
  return [0, 1].every((step) => {
    const counts = h.map((x) => x[step]!);
    return counts.reduce((a, b) => a + b, 0) === SHARDS && Math.max(...counts) - Math.min(...counts) <= 1;
  });
}

async function trigger(s: ServerProcess, n: number, tag: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await fetch(`${s.url}/api/v1/workflow/workflows/${WF}/runs`, { method: 'POST', headers, body: JSON.stringify({ foreignId: `${tag}-${i}` }) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { runId: string }).runId;
    }),
  );
}

async function completed(s: ServerProcess, runIds: string[]): Promise<void> {
  await eventually(
    `${runIds.length} runs completed`,
    async () => {
      const page = (await (await fetch(`${s.url}/api/v1/workflow/runs?workflow=${WF}&runState=completed&limit=1000`, { headers })).json()) as { runs: { runId: string }[] };
      const done = new Set(page.runs.map((r) => r.runId));
      return runIds.every((id) => done.has(id)) || undefined;
    },
    60_000,
  );
}

/** Calls the step target saw per (run, status) of `runIds`: every step once, or at least once. */
function calls(runIds: string[]): number[] {
  return runIds.flatMap((id) => ['a', 'b'].map((s) => target.calls.get(`${id}:${s}`) ?? 0));
}

/** The (run:status) pairs of `runIds` whose step was not called exactly once, with their counts (empty when all were). */
function notOnce(runIds: string[]): string[] {
  return runIds.flatMap((id) => ['a', 'b'].map((s) => `${id}:${s}`)).filter((k) => target.calls.get(k) !== 1).map((k) => `${k} x${target.calls.get(k) ?? 0}`);
}

it('spreads step shards over instances and moves them on join, stop and SIGKILL without losing a run', async () => {
  db = await createTestDatabase('wfshards');
  const [s1, s2] = await Promise.all([start(), start()]);
  const def = [`name: ${WF}`, 'start: a', 'states:', ...['a', 'b'].map((s) => `  ${s}: { http: { url: "${target.url}", to: [${NEXT[s]}] }, parallel: ${SHARDS} }`), '  done: {}', ''].join('\n');
  const applied = await fetch(`${s1!.url}/api/v1/workflow/definitions`, { method: 'POST', headers: { ...headers, 'content-type': 'application/yaml' }, body: def });
  expect(applied.status).toBe(201);

  // Two instances: two shards of each step each (before: one instance held them all).
  await eventually('shards spread over two instances', async () => (await spread([s1!, s2!])) || undefined, 30_000);
  expect(await holdings([s1!, s2!])).toEqual([
    [2, 2],
    [2, 2],
  ]);
  const first = [...(await trigger(s1!, 20, 'one')), ...(await trigger(s2!, 20, 'two'))];
  await completed(s1!, first);
  expect(notOnce(first)).toEqual([]);
  for (const s of [s1!, s2!]) expect(await metric(s, 'workflow_process_latency_seconds_count', { workflow: WF })).toBeGreaterThan(0);

  // A third joins while runs are in flight: it gets its share; nothing is lost or done twice.
  const during = trigger(s1!, 60, 'join');
  const s3 = await start();
  await eventually('shards spread over three instances', async () => (await spread([s1!, s2!, s3])) || undefined, 30_000);
  const joined = await during;
  await completed(s1!, joined);
  expect(notOnce(joined)).toEqual([]);
  const later = await trigger(s2!, 30, 'three');
  await completed(s2!, later);
  expect(await metric(s3, 'workflow_process_latency_seconds_count', { workflow: WF })).toBeGreaterThan(0);

  // SIGTERM: a clean stop releases its shards to the other two at once.
  const beforeStop = trigger(s2!, 40, 'stop');
  expect(await s1!.stop('SIGTERM')).toBe(0);
  await eventually('shards of the stopped instance moved', async () => (await spread([s2!, s3])) || undefined, 30_000);
  const stopped = await beforeStop;
  await completed(s2!, stopped);
  expect(notOnce(stopped)).toEqual([]);

  // SIGKILL: its shards move once its leases lapse; steps in flight may run again (at least once).
  const beforeKill = await trigger(s3, 40, 'kill');
  await s2!.stop('SIGKILL');
  await eventually('shards of the killed instance moved', async () => (await spread([s3])) || undefined, 30_000);
  await completed(s3, beforeKill);
  expect(calls(beforeKill).every((n) => n >= 1)).toBe(true);
}, 240_000);
