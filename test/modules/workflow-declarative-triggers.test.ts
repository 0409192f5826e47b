/**
 * Declarative `connectors:` and `schedules:` end to end, on PostgreSQL + Redis + NATS through the HTTP API: a bus
 * event triggers a run, a callback connector moves it on (its `when` skipping what does not match), the webhook route
 * triggers and calls back, a re-applied definition with a changed subject keeps its connector working, and a DAG's
 * every-second schedule starts one run per slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import type { Module } from '../../src/kernel/module.ts';
import { createWorkflowModule } from '../../src/modules/workflow/index.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { removeDeploymentData } from '../helpers/deployment-cleanup.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { eventually } from '../helpers/async.ts';

/** A module with the action the DAG's step calls. */
const helperModule: Module = {
  name: 'echox',
  description: 'test actions',
  configSchema: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  actions(ctx) {
    ctx.actions.register({ name: 'echox.echo', input: z.strictObject({ at: z.string() }), handler: async (i) => ({ echoed: i.at }) });
  },
};

const ORDER = (orderSubject: string, name = 'shop-order') => `
name: ${name}
start: created
states:
  created: { callback: { to: [paid, cancelled] } }
  paid:    { callback: { to: [shipped] } }
  shipped: {}
  cancelled: {}
connectors:
  - name: orders
    subject: ${orderSubject}
    trigger: { foreignId: "order-{{ event.data.orderId }}", object: { orderId: "{{ event.data.orderId }}", items: "{{ event.data.items }}" } }
  - name: payments
    subject: shop.payment.settled
    when: "event.data.ok == true"
    callback: { foreignId: "order-{{ event.data.orderId }}", status: created, to: paid, object: { paidRef: "{{ event.data.ref }}" } }
  - name: hook
    trigger: { foreignId: "hook-{{ event.data.ref }}", object: { via: "{{ event.type }}" } }
`;

const TICKER = (withSchedule: boolean) => `
name: ticker
input: { type: object, properties: { at: { type: string } }, required: [at] }
steps:
  - { id: echo, action: { name: echox.echo, input: { at: "{{ input.at }}" } } }
connectors:
  - { name: kick, subject: ticker.kick, trigger: { foreignId: "kick-{{ event.id }}", object: { at: "{{ event.data.at }}" } } }
${withSchedule ? 'schedules:\n  - { name: every-second, cron: "* * * * * *", foreignId: "tick-{{ schedule.at }}", object: { at: "{{ schedule.at }}" } }' : ''}
`;

const prefix = uniqueName('wfdt').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase('wfdt');
  const modules = [createWorkflowModule(), helperModule];
  const cfg = loadConfig(modules, {
    env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL },
    flags: { 'server.port': 0, prefix, 'auth.enabled': false, 'log.level': 'silent', 'modules.workflow': { timeoutPollMs: 100, sweepIntervalMs: 1000, roleTtlMs: 2000 } },
  });
  server = await startServer(cfg, modules, 'test');
  base = `${server.url}/api/v1`;
  // Every test uses these two; applying them here keeps the tests independent of each other's order.
  expect((await api('POST', '/workflow/definitions', ORDER('shop.order.created'), 'application/yaml')).status).toBe(201);
  expect((await api('POST', '/workflow/definitions', TICKER(true), 'application/yaml')).status).toBe(201);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await removeDeploymentData(prefix);
  await db?.drop();
}, 180_000);

async function api(method: string, path: string, body?: unknown, type = 'application/json') {
  const res = await fetch(base + path, { method, headers: { 'content-type': type }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const publish = async (type: string, data: unknown) => {
  const r = await api('POST', '/events', { type, data });
  expect(r.status).toBe(202);
  return r.body.id as string;
};
type RunRow = { runId: string; foreignId: string; status: string; runState: string; object: Record<string, unknown> };
const runsOf = async (workflow: string, foreignId?: string): Promise<RunRow[]> =>
  (await api('GET', `/workflow/runs?workflow=${workflow}&limit=1000${foreignId ? `&foreignId=${encodeURIComponent(foreignId)}` : ''}`)).body.runs;


/**
 * A connector's durable starts at 'new', so events published before its role is taken are not seen. Publish a
 * warm-up event until it has an effect: from then on the connector is consuming.
 */
async function warmUp(workflow: string, foreignId: string, type: string, data: unknown, done: (r: RunRow) => boolean = () => true): Promise<void> {
  await eventually(`connector on ${type} consuming`, async () => {
    const r = (await runsOf(workflow, foreignId))[0];
    if (r && done(r)) return true;
    await publish(type, data);
    return undefined;
  });
}

describe('declarative connectors and schedules on PostgreSQL + NATS', () => {
  it('a bad definition is refused with every bad field named, and not saved', async () => {
    const bad = await api(
      'POST',
      '/workflow/definitions',
      `
name: broken
start: a
states: { a: { callback: { to: [b] } }, b: {} }
schedules: [{ name: s, cron: "* * 99 * *", foreignId: x }]
connectors:
  - { name: c, subject: "shop..x", callback: { foreignId: "{{ event.data.id }}", status: b, to: a } }
  - { name: c, subject: shop.y, trigger: { foreignId: "{{ run.id }}" } }
`,
      'application/yaml',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((i: { path: string }) => i.path).sort()).toEqual(['body.connectors.0.callback.status', 'body.connectors.0.subject', 'body.connectors.1.name', 'body.connectors.1.trigger.foreignId', 'body.schedules.0.cron']);
    expect((await api('GET', '/workflow/definitions/broken')).status).toBe(404);
  });

  it('a bus event triggers a run; a callback connector moves it on, skipping events its `when` refuses', async () => {
    await warmUp('shop-order', 'order-warm', 'shop.order.created', { orderId: 'warm', items: 0 });
    await warmUp('shop-order', 'order-warm', 'shop.payment.settled', { orderId: 'warm', ok: true, ref: 'warm' }, (r) => r.status === 'paid');

    await publish('shop.order.created', { orderId: 1001, items: [{ sku: 'a', qty: 2 }] });
    const run = await eventually('order-1001 run', async () => (await runsOf('shop-order', 'order-1001'))[0]);
    expect(run).toMatchObject({ status: 'created', runState: 'running', object: { orderId: 1001, items: [{ sku: 'a', qty: 2 }] } });

    // The declined payment comes first on the same subject: were `when` ignored, it would move the run with 'declined'.
    await publish('shop.payment.settled', { orderId: 1001, ok: false, ref: 'declined' });
    await publish('shop.payment.settled', { orderId: 1001, ok: true, ref: 'settled' });
    const paid = await api('GET', `/workflow/runs/${run.runId}/await?status=paid&timeout=20s`);
    expect(paid.status).toBe(200);
    expect(paid.body.object).toEqual({ paidRef: 'settled' });
    const history = (await api('GET', `/workflow/runs/${run.runId}/history`)).body.history.map((h: { status: string }) => h.status);
    expect(history).toEqual(['created', 'paid']);
  });

  it('the webhook route triggers a webhook-only connector and calls back through a bus connector; bad bodies get 4xx', async () => {
    const hook = await api('POST', '/workflow/connectors/shop-order/hook', { ref: 'w1' });
    expect(hook).toMatchObject({ status: 202, body: { result: 'done' } });
    const [run] = await runsOf('shop-order', 'hook-w1');
    expect(run).toMatchObject({ status: 'created', object: { via: 'webhook' } });
    // The same foreign id while its run is active: nothing new, and not an error.
    expect((await api('POST', '/workflow/connectors/shop-order/hook', { ref: 'w1' })).body.result).toBe('skipped');

    const noRef = await api('POST', '/workflow/connectors/shop-order/hook', { other: 1 });
    expect(noRef.status).toBe(400);
    expect(noRef.body.errors).toEqual([{ path: 'connectors.hook.trigger.foreignId', message: "'event.data.ref' is missing" }]);

    await publish('shop.order.created', { orderId: 1002, items: [] });
    const r1002 = await eventually('order-1002 run', async () => (await runsOf('shop-order', 'order-1002'))[0]);
    expect((await api('POST', '/workflow/connectors/shop-order/payments', { orderId: 1002, ok: false, ref: 'no' })).body.result).toBe('skipped');
    expect((await api('POST', '/workflow/connectors/shop-order/payments', { orderId: 1002, ok: true, ref: 'hooked' })).body.result).toBe('done');
    expect((await api('GET', `/workflow/runs/${r1002.runId}`)).body).toMatchObject({ status: 'paid', object: { paidRef: 'hooked' } });
    expect((await api('POST', '/workflow/connectors/shop-order/payments', { orderId: 'ghost', ok: true, ref: 'x' })).status).toBe(404);
  });

  it('a re-applied definition that changes a connector’s subject keeps that connector consuming', async () => {
    // A workflow of its own, so that the other tests' shop-order keeps its subject whatever order the tests run in.
    expect((await api('POST', '/workflow/definitions', ORDER('shop.order.created', 'shop-resub'), 'application/yaml')).body.version).toBe(1);
    await warmUp('shop-resub', 'order-warm', 'shop.order.created', { orderId: 'warm', items: 0 });
    expect((await api('POST', '/workflow/definitions', ORDER('shop.order.placed', 'shop-resub'), 'application/yaml')).body.version).toBe(2);
    await warmUp('shop-resub', 'order-warm2', 'shop.order.placed', { orderId: 'warm2', items: 0 });
    await publish('shop.order.placed', { orderId: 1003, items: [] });
    const run = await eventually('order-1003 run', async () => (await runsOf('shop-resub', 'order-1003'))[0]);
    expect(run.object).toEqual({ orderId: 1003, items: [] });
  });

  it('a DAG connector triggers with the event id in the foreign id; its every-second schedule starts one run per slot', async () => {
    // Kick until one lands (the connector's durable starts at 'new'); the run's foreign id carries that event's id.
    const sent: string[] = [];
    const kicked = await eventually('a kick run', async () => {
      const r = (await runsOf('ticker')).find((x) => x.foreignId.startsWith('kick-'));
      if (r) return r;
      sent.push(await publish('ticker.kick', { at: 'manual' }));
      return undefined;
    });
    expect(sent.map((id) => `kick-${id}`)).toContain(kicked.foreignId);
    const done = await api('GET', `/workflow/runs/${kicked.runId}/await?status=completed&timeout=20s`);
    expect(done.status).toBe(200);
    expect(done.body.object).toMatchObject({ input: { at: 'manual' }, steps: { echo: { status: 'completed', output: { echoed: 'manual' } } } });

    const ticks = await eventually('two completed scheduled runs', async () => {
      const runs = (await runsOf('ticker')).filter((r) => r.foreignId.startsWith('tick-') && r.runState === 'completed');
      return runs.length >= 2 ? runs : undefined;
    });
    expect(new Set(ticks.map((t) => t.foreignId)).size).toBe(ticks.length);
    for (const t of ticks) {
      const at = t.foreignId.slice('tick-'.length);
      expect(new Date(at).getUTCMilliseconds(), t.foreignId).toBe(0);
      expect(t.object).toMatchObject({ input: { at }, steps: { echo: { output: { echoed: at } } } });
    }
    // Dropping the schedule from the definition stops it (checked by the next apply succeeding; timing is not asserted).
    expect((await api('POST', '/workflow/definitions', TICKER(false), 'application/yaml')).status).toBe(201);
  });
});
