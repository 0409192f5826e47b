/**
 * A real Prometheus scrapes two distributed instances (an api and a worker) and evaluates deploy/prometheus/alerts.yaml:
 * both targets are up through the token-protected /metrics, every rule evaluates without error over real series, the
 * readiness and outbox gauges arrive, and stopping the worker turns CapstanInstanceDown pending for it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { eventually } from '../helpers/async.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { PROMETHEUS_BIN, startPrometheus, type PrometheusProcess } from '../helpers/prometheus.ts';
import { ALERTS_FILE, ruleExpressions } from '../helpers/promql-names.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

const TOKEN = 'prometheus-e2e-token';
const prefix = uniqueName('prom').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
let api: ServerProcess | undefined;
let worker: ServerProcess | undefined;
let prom: PrometheusProcess | undefined;

const required = !!process.env.CI;
const skip = !PROMETHEUS_BIN && !required;
if (skip) console.warn('prometheus not installed (Debian package prometheus); skipping the alerting e2e');

type Vector = { metric: Record<string, string>; value: [number, string] }[];
const hostOf = (s: ServerProcess) => new URL(s.url).host;

beforeAll(async () => {
  if (skip) return;
  db = await createTestDatabase('prom');
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    NATS_URL,
    CAPSTAN_PREFIX: prefix,
    // A metrics-only token: Prometheus needs no more than metrics:read.
    CAPSTAN_AUTH__TOKENS: `[{name: prometheus, sha256: ${hashToken(TOKEN)}, scopes: ["metrics:read"]}]`,
  };
  [api, worker] = await Promise.all([startServer({ env, args: ['--role', 'api'] }), startServer({ env, args: ['--role', 'worker'] })]);
  prom = await startPrometheus(
    [
      { job: 'capstan-api', targets: [hostOf(api)], token: TOKEN },
      { job: 'capstan-worker', targets: [hostOf(worker)], token: TOKEN },
    ],
    [ALERTS_FILE],
  );
}, 180_000);

afterAll(async () => {
  await prom?.stop();
  await api?.stop();
  await worker?.stop();
  await db?.drop();
});

it.skipIf(skip)('scrapes both roles through the token-protected /metrics', async () => {
  // Without the token /metrics is refused, so the targets being up proves Prometheus authenticated.
  expect((await fetch(`${worker!.url}/metrics`)).status).toBe(401);
  const targets = await eventually(
    'both targets up',
    async () => {
      const t = await prom!.api<{ activeTargets: { labels: { job: string }; health: string; lastError: string }[] }>('targets');
      return t.activeTargets.length === 2 && t.activeTargets.every((x) => x.health === 'up') ? t.activeTargets : undefined;
    },
    60_000,
  );
  expect(targets.map((t) => t.labels.job).sort()).toEqual(['capstan-api', 'capstan-worker']);
}, 90_000);

it.skipIf(skip)('evaluates every rule over real series without error, and the alerting gauges carry the real state', async () => {
  const groups = await eventually(
    'every rule evaluated',
    async () => {
      const d = await prom!.api<{ groups: { rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }[] }>('rules');
      const rules = d.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((r) => !r.lastEvaluation.startsWith('0001')) ? rules : undefined;
    },
    60_000,
  );
  expect(groups.length).toBe(ruleExpressions(ALERTS_FILE).length);
  for (const r of groups) expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');

  // Each instance reports its four dependencies ready; only the worker runs the outbox relay, and it leads.
  const up = await eventually('dependency_up of both instances', async () => {
    const v = await prom!.api<{ result: Vector }>(`query?query=${encodeURIComponent('dependency_up')}`);
    return v.result.length === 8 ? v.result : undefined;
  }, 30_000);
  expect(up.every((s) => s.value[1] === '1')).toBe(true);
  expect(new Set(up.map((s) => s.metric.kind))).toEqual(new Set(['postgresql', 'redis', 'nats', 'nats-kv']));
  const leader = await eventually('the worker leads the outbox relay', async () => {
    const v = await prom!.api<{ result: Vector }>(`query?query=${encodeURIComponent('outbox_relay_leader == 1')}`);
    return v.result.length === 1 ? v.result[0] : undefined;
  }, 30_000);
  expect(leader.metric.job).toBe('capstan-worker');
  const pending = await prom!.api<{ result: Vector }>(`query?query=${encodeURIComponent('max(outbox_oldest_event_age_seconds) < 60')}`);
  expect(pending.result.length).toBe(1);
  // Nothing is wrong yet: no alert is pending or firing.
  const alerts = await prom!.api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts');
  expect(alerts.alerts).toEqual([]);
}, 90_000);

it.skipIf(skip)('a stopped worker turns CapstanInstanceDown pending for it, and only for it', async () => {
  const target = hostOf(worker!);
  expect(await worker!.stop('SIGTERM')).toBe(0);
  const alert = await eventually(
    'CapstanInstanceDown pending',
    async () => {
      const d = await prom!.api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts');
      return d.alerts.find((a) => a.labels.alertname === 'CapstanInstanceDown');
    },
    30_000,
  );
  expect(alert.state).toBe('pending');
  expect(alert.labels).toMatchObject({ job: 'capstan-worker', instance: target, severity: 'critical' });
  const d = await prom!.api<{ alerts: { labels: Record<string, string> }[] }>('alerts');
  expect(d.alerts.filter((a) => a.labels.alertname === 'CapstanInstanceDown').length).toBe(1);
}, 60_000);
