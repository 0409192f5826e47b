/**
 * Workflow fault with real processes: PostgreSQL restarted (crashed with `immediate`, down for a few seconds)
 * while two `capstan serve` instances take a continuous stream of triggers. PostgreSQL here is a PRIVATE
 * cluster on its own port (test/helpers/private-postgres.ts): the shared one on 5432 serves every other file.
 * What a user relies on: every trigger acknowledged with 201 has its run, which completes with an exact
 * history; a trigger that could not be stored is refused promptly with a problem+json 5xx, never left hanging.
 * Every trigger carries an Idempotency-Key (one per foreign id) and what was refused is retried with the same key
 * once PostgreSQL is back, as a client should: a refusal whose commit in fact landed then answers its first run,
 * so there is exactly one run per acknowledged trigger and no duplicate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { eventually, sleep } from '../kit/index.ts';
import { removeDeploymentData } from '../helpers/deployment-cleanup.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { startStepTarget, type StepTarget } from './workflow-faults-target.ts';

const TOKEN = 'wf-pg-restart-token';
const STEPS = ['a', 'b', 'c'];
const PATH = [...STEPS, 'done'];
const NEXT: Record<string, string> = { a: 'b', b: 'c', c: 'done' };
const WF = 'pgdown';
/** Triggers acknowledged before the crash, and after PostgreSQL is back, before the load stops. */
const BEFORE = 50;
const AFTER = 50;
/** A bound on the whole load, whatever happens. */
const MAX_TRIGGERS = 400;
const WORKERS = 4;
const OUTAGE_MS = 2_500;
/** A trigger with no answer after this long counts as hung: a bound, not a latency claim (today's pool backoff alone can hold one ~20 s). */
const HANG_MS = 90_000;
/** Retries of one refused trigger after PostgreSQL is back (each with the trigger's Idempotency-Key). */
const RETRIES = 5;
type Phase = 'before' | 'down' | 'restarting' | 'after';

/** One trigger as the client saw it. */
interface Attempt {
  foreignId: string;
  /** Where PostgreSQL was when the request was sent: before the crash, down, starting (recovery), back up. */
  sentWhile: Phase;
  status: number;
  contentType: string;
  body: any;
  /** How long the answer took (printed, never asserted). */
  ms: number;
  /** Set when no answer came back (transport error or the hang bound). */
  error?: string;
  /** The Idempotency-Key header's value, one per foreign id. */
  key: string;
  /** Whether the answer said it replayed an earlier request with this key (header Idempotent-Replayed). */
  replayed: boolean;
}

const prefix = uniqueName('wfpgr').toLowerCase();
let pg: PrivatePostgres;
let target: StepTarget;
const servers: ServerProcess[] = [];
const attempts: Attempt[] = [];
const retried: Attempt[] = [];
const readyDuringOutage: { status: number; body: any }[] = [];
/** Per instance: ms from PostgreSQL answering again to its /readyz answering 200 (printed, never asserted). */
const readyAgainMs: number[] = [];

function env(): Record<string, string> {
  return {
    DATABASE_URL: pg.url,
    REDIS_URL,
    NATS_URL,
    CAPSTAN_PREFIX: prefix,
    CAPSTAN_AUTH__TOKENS: `[{name: f, sha256: ${hashToken(TOKEN)}, scopes: [admin]}]`,
    CAPSTAN_LEASES__DEFAULT_TTL_MS: '2000',
    CAPSTAN_MODULES__WORKFLOW__ROLE_TTL_MS: '2000',
    // The sweep re-reads the store for steps whose events or commits the outage swallowed.
    CAPSTAN_MODULES__WORKFLOW__SWEEP_INTERVAL_MS: '1000',
  };
}

async function api(s: ServerProcess, method: string, path: string, body?: unknown, type = 'application/json', headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; body: any; replayed: boolean }> {
  const res = await fetch(`${s.url}/api/v1/workflow${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(HANG_MS),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text, the assertions name it.
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: parsed, replayed: res.headers.get('idempotent-replayed') === 'true' };
}

/** One trigger of `foreignId` with its Idempotency-Key (the same on every retry of it). */
async function trigger(s: ServerProcess, foreignId: string, sentWhile: Phase): Promise<Attempt> {
  const t0 = performance.now();
  const key = `key-${foreignId}`;
  try {
    const res = await api(s, 'POST', `/workflows/${WF}/runs`, { foreignId }, 'application/json', { 'idempotency-key': key });
    return { foreignId, sentWhile, ms: Math.round(performance.now() - t0), key, ...res };
  } catch (err) {
    return { foreignId, sentWhile, ms: Math.round(performance.now() - t0), key, status: 0, contentType: '', body: undefined, replayed: false, error: (err as Error).message };
  }
}

async function readyz(s: ServerProcess): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.url}/readyz`, { signal: AbortSignal.timeout(HANG_MS) });
  return { status: res.status, body: await res.json() };
}

/** Polls /readyz until 200 (bounded) and returns the ms since `since`; fails naming the last answer. */
async function readyAfter(s: ServerProcess, since: number): Promise<number> {
  await eventually(
    async () => {
      const r = await readyz(s);
      expect(r.status, `${s.url} /readyz: ${JSON.stringify(r.body)}`).toBe(200);
      return true;
    },
    { timeout: 120_000, interval: 250, what: `${s.url} ready after PostgreSQL came back` },
  );
  return Math.round(performance.now() - since);
}

/** Every run of the workflow (one page: the load stays under the page limit). */
async function allRuns(s: ServerProcess, query = ''): Promise<{ runId: string; foreignId: string; runState: string; status: string }[]> {
  const page = await api(s, 'GET', `/runs?workflow=${WF}&limit=1000${query}`);
  expect(page.status, JSON.stringify(page.body)).toBe(200);
  return page.body.runs;
}

const acknowledged = () => [...attempts, ...retried].filter((a) => a.status === 201);
const refused = () => attempts.filter((a) => a.status !== 201);

beforeAll(async () => {
  pg = await startPrivatePostgres();
  target = startStepTarget(NEXT, { min: 5, max: 30 });
  servers.push(await startServer({ env: env() }));
  const states = STEPS.map((s) => `  ${s}: { http: { url: "${target.url}", to: [${NEXT[s]}] } }`);
  const def = await api(servers[0]!, 'POST', '/definitions', [`name: ${WF}`, 'start: a', 'states:', ...states, '  done: {}', ''].join('\n'), 'application/yaml');
  expect(def.status, JSON.stringify(def.body)).toBe(201);
  servers.push(await startServer({ env: env() }));

  // The load: WORKERS clients trigger continuously, alternating instances, until AFTER triggers are
  // acknowledged after the restart. The main flow crashes PostgreSQL once BEFORE are acknowledged.
  let phase: Phase = 'before';
  let next = 0;
  let ackAfter = 0;
  const worker = async () => {
    while (next < MAX_TRIGGERS && ackAfter < AFTER) {
      const i = next++;
      const sentWhile = phase;
      const a = await trigger(servers[i % 2]!, `load-${i}`, sentWhile);
      attempts.push(a);
      if (a.status === 201 && sentWhile === 'after') ackAfter++;
      // A short pause keeps the stream going through the whole outage instead of finishing before it.
      await sleep(20);
    }
  };
  const load = Promise.all(Array.from({ length: WORKERS }, worker));
  while (attempts.filter((a) => a.status === 201).length < BEFORE && next < MAX_TRIGGERS) await sleep(20);
  // Crash with steps in flight (bounded, so a quiet moment cannot hang the test).
  await Promise.race([target.nextCall(), sleep(3_000)]);

  phase = 'down';
  await pg.stop({ mode: 'immediate' });
  // The postmaster has exited: both instances must see their database as down now, and one trigger per
  // instance is certain to be sent while it is (the workers may all be waiting on earlier ones).
  const probes = servers.map((s, i) => trigger(s, `probe-${i}`, 'down').then((a) => void attempts.push(a)));
  readyDuringOutage.push(...(await Promise.all(servers.map(readyz))));
  await sleep(OUTAGE_MS);
  phase = 'restarting';
  await pg.start();
  phase = 'after';
  const backAt = performance.now();
  const readyAgain = Promise.all(servers.map((s) => readyAfter(s, backAt)));
  await Promise.all([load, ...probes]);
  readyAgainMs.push(...(await readyAgain));

  // A client retries what was refused, with the same Idempotency-Key: a refusal whose commit in fact landed answers
  // its first run (201, replayed), one that did not starts it now. A retry refused again is retried (bounded).
  for (const a of refused()) {
    for (let i = 0; i < RETRIES; i++) {
      const r = await trigger(servers[i % 2]!, a.foreignId, 'after');
      retried.push(r);
      if (r.status === 201) break;
      await sleep(500);
    }
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  target?.stop();
  await removeDeploymentData(prefix);
  await pg?.destroy();
}, 60_000);

describe('workflow: PostgreSQL restarted mid-load', () => {
  it('no acknowledged trigger is lost: every one completes with its history exactly once, in order', async () => {
    const s = servers[0]!;
    const acked = acknowledged();
    const ids = acked.map((a) => a.body.runId as string);
    expect(new Set(ids).size, 'distinct run ids').toBe(ids.length);

    await eventually(
      async () => {
        const done = new Set((await allRuns(s, '&runState=completed')).map((r) => r.runId));
        const stuck = ids.filter((id) => !done.has(id));
        const stuckRuns = await Promise.all(stuck.slice(0, 5).map(async (id) => (await api(s, 'GET', `/runs/${id}`)).body));
        expect(stuck, `runs not completed: ${JSON.stringify(stuckRuns)}`).toEqual([]);
        return true;
      },
      { timeout: 120_000, interval: 500, what: 'every acknowledged run completed' },
    );

    // Every run of the workflow, including any whose refused trigger did commit: none is left half-written.
    const runs = await allRuns(s);
    for (const r of runs) {
      expect({ runState: r.runState, status: r.status }, `run ${r.runId} (${r.foreignId})`).toEqual({ runState: 'completed', status: 'done' });
      const history = (await api(s, 'GET', `/runs/${r.runId}/history`)).body.history as { status: string; version: number }[];
      expect(history.map((h) => h.status), `history of ${r.runId}`).toEqual(PATH);
      expect(history.map((h) => h.version), `versions of ${r.runId}`).toEqual([1, 2, 3, 4]);
    }
    const missingSteps = ids.flatMap((id) => STEPS.filter((st) => !target.calls.has(`${id}:${st}`)).map((st) => `${id}:${st}`));
    expect(missingSteps).toEqual([]);

    const perForeignId = new Map<string, number>();
    for (const r of runs) perForeignId.set(r.foreignId, (perForeignId.get(r.foreignId) ?? 0) + 1);
    const duplicates = [...perForeignId.values()].reduce((n, c) => n + c - 1, 0);
    // Exactly one run per acknowledged trigger: the retries with the same key started none twice.
    expect(duplicates, `runs per foreign id: ${JSON.stringify(Object.fromEntries([...perForeignId].filter(([, c]) => c > 1)))}`).toBe(0);
    expect(runs.length, 'runs = acknowledged triggers').toBe(new Set(acked.map((a) => a.foreignId)).size);
    const runOf = new Map(runs.map((r) => [r.foreignId, r.runId]));
    for (const a of acked) expect(a.body.runId, `run answered for ${a.foreignId}`).toBe(runOf.get(a.foreignId));
    const during = attempts.filter((a) => a.sentWhile !== 'before' && a.sentWhile !== 'after');
    const dup = target.duplicates();
    console.log(
      `[workflow-pg-restart] ${attempts.length} triggers: ${attempts.filter((a) => a.status === 201).length} acknowledged, ` +
        `${refused().length} refused ${JSON.stringify(countBy(refused(), (a) => `${a.status} ${a.body?.code ?? a.error}`))}; ` +
        `${during.length} sent while PostgreSQL was down or recovering, answered after up to ${Math.max(...during.map((a) => a.ms))} ms; ` +
        `retried after with the same key: ${retried.filter((a) => a.status === 201 && !a.replayed).length} stored now, ${retried.filter((a) => a.replayed).length} answered the run their refused attempt had stored (replayed), ${retried.filter((a) => a.status !== 201).length} refused again; ` +
        `${runs.length} runs, ${duplicates} duplicate runs per foreign id; step calls ${dup.total}, ${dup.extra} repeated; ` +
        `/readyz 200 again ${readyAgainMs.join(' and ')} ms after PostgreSQL answered`,
    );
  }, 180_000);

  it('every trigger got an answer: 201, or a problem+json 5xx that shows no internals', () => {
    expect(attempts.some((a) => a.sentWhile === 'down')).toBe(true);
    for (const a of attempts) {
      expect(a.error, `${a.foreignId} got no answer within ${HANG_MS} ms`).toBeUndefined();
      if (a.status === 201) continue;
      expect(a.status, `${a.foreignId}: ${JSON.stringify(a.body)}`).toBeGreaterThanOrEqual(500);
      expect(a.contentType).toContain('application/problem+json');
      expect(a.body).toMatchObject({ status: a.status, code: expect.any(String), detail: expect.any(String) });
      expect(JSON.stringify(a.body), 'no stack trace or SQL in the answer').not.toMatch(/\\n\s+at |insert into|select /i);
    }
    // Retried with the same key once PostgreSQL was back: every refused trigger is acknowledged in the end (stored now,
    // or its refused attempt's commit answered), never a 409 for a run the client does not know it has.
    for (const a of retried) expect(a.status, `retry of ${a.foreignId}: ${JSON.stringify(a.body)}`).not.toBe(409);
    const acknowledgedIds = new Set(acknowledged().map((a) => a.foreignId));
    for (const a of refused()) expect(acknowledgedIds.has(a.foreignId), `${a.foreignId} acknowledged after ${RETRIES} retries`).toBe(true);
  });

  // The kernel's errorHandler answers the connection errors the transaction retry gives up on (ECONNREFUSED,
  // CONNECTION_CLOSED, 57P01, 57P03) with 503 Unavailable. Skipped when this run refused nothing.
  it('a trigger refused because PostgreSQL is down is a 503 Unavailable, not a 500 Internal', (ctx) => {
    if (refused().length === 0) ctx.skip();
    for (const a of refused()) expect({ status: a.status, code: a.body?.code }, a.foreignId).toEqual({ status: 503, code: 'Unavailable' });
  });

  it('/readyz reported PostgreSQL down during the outage, and ready again after it', async () => {
    expect(readyDuringOutage).toHaveLength(servers.length);
    for (const r of readyDuringOutage) {
      expect(r.status).toBe(503);
      expect(r.body.dependencies.database).toMatchObject({ ok: false, kind: 'postgresql' });
    }
    // readyAfter threw in beforeAll if an instance never became ready again.
    expect(readyAgainMs).toHaveLength(servers.length);
    for (const s of servers) expect((await readyz(s)).status).toBe(200);
  });

  it('both instances stayed alive through the restart', async () => {
    for (const s of servers) {
      expect(s.child.exitCode, s.output().slice(-4000)).toBeNull();
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    }
  });
});

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}
