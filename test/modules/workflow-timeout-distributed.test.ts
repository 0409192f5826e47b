/**
 * The timeout poller wakes for timeouts armed anywhere: a run started on instance A, which then stops, is timed out by
 * instance B (the holder of the timeouts role) through PostgreSQL and NATS. Both instances sleep up to ten minutes
 * without news (timeoutPollMs), so a timeout of 2 s fires within the test only because B heard the run's
 * status_changed event and slept until the row was due.
 */
import { afterAll, expect, it } from 'vitest';
import { eventually } from '../helpers/async.ts';
import { removeDeploymentData } from '../helpers/deployment-cleanup.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { startWorkflowServer } from '../helpers/workflow-server.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const DEFINITION = `name: tmo
start: waiting
states:
  waiting: { callback: { to: [done] }, timeout: { after: 2s, to: expired } }
  done: {}
  expired: {}
`;

it('a timeout armed on instance A fires on instance B, which holds the timeouts role', async () => {
  const db = await createTestDatabase('wftmo');
  const prefix = uniqueName('wftmo').toLowerCase();
  cleanups.push(() => db.drop(), () => removeDeploymentData(prefix));
  const env = { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: prefix };
  const workflow = { timeoutPollMs: 600_000, roleTtlMs: 2_000 };
  const b = await startWorkflowServer({ env, workflow });
  cleanups.push(() => b.server.stop());
  // B alone takes the singleton roles, the timeouts role among them.
  await eventually('B holds the timeouts role', async () => {
    const text = await (await fetch(`${b.server.url}/metrics`)).text();
    return /roles_held\{set="workflow-timeouts"\} 1\b/.test(text) ? true : undefined;
  }, 30_000);
  const a = await startWorkflowServer({ env, workflow });
  cleanups.push(() => a.server.stop());
  expect((await a.api('POST', '/workflow/definitions', DEFINITION, 'application/yaml')).status).toBe(201);
  const started = await a.api('POST', '/workflow/workflows/tmo/runs', { foreignId: 'armed-on-a' });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const runId = started.body.runId as string;
  await a.server.stop();
  const run = await eventually('the run timed out on B', async () => {
    const r = (await b.api('GET', `/workflow/runs/${runId}`)).body as { status: string; runState: string };
    return r.status === 'expired' ? r : undefined;
  }, 60_000);
  expect(run).toMatchObject({ status: 'expired', runState: 'completed' });
  expect(((await b.api('GET', `/workflow/runs/${runId}/history`)).body.history as { status: string }[]).map((h) => h.status)).toEqual(['waiting', 'expired']);
}, 150_000);
