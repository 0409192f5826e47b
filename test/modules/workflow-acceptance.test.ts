/** Workflow acceptance, in embedded mode through the HTTP API: callback, timeout, an http step against a test server with parallel: 5, and a DAG. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import type { Module } from '../../src/kernel/module.ts';
import { createWorkflowModule } from '../../src/modules/workflow/index.ts';
import { tempDir } from '../helpers/server-process.ts';

/** The remote side of the http steps: counts calls per (run, status) and answers what the test wants. */
const calls = new Map<string, number>();
let flakyLeft = 2;
const target = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const url = new URL(req.url);
    const body = ((await req.json().catch(() => null)) ?? {}) as { runId?: string; status?: string; object?: Record<string, unknown>; n?: number };
    const key = `${url.pathname}:${body.runId ?? ''}:${body.status ?? ''}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    if (url.pathname === '/ship') return Response.json({ status: body.object?.fail ? 'failed' : 'shipped', object: { ...body.object, shippedBy: 'target' } });
    if (url.pathname === '/flaky') {
      if (flakyLeft-- > 0) return new Response('try again', { status: 503 });
      return Response.json({ ok: true });
    }
    if (url.pathname === '/double') return Response.json({ doubled: (body.n ?? 0) * 2 });
    return new Response('no', { status: 404 });
  },
});

/** A module registering an action the DAG and action steps call. */
const helperModule: Module = {
  name: 'mathx',
  description: 'test actions',
  configSchema: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  actions(ctx) {
    ctx.actions.register({ name: 'mathx.add', input: z.strictObject({ a: z.number(), b: z.number() }), handler: async (i) => ({ sum: i.a + i.b }) });
  },
};

let server: RunningServer;
let base: string;
let applied: Awaited<ReturnType<typeof api>>;
beforeAll(async () => {
  const modules = [createWorkflowModule(), helperModule];
  const cfg = loadConfig(modules, {
    env: {},
    flags: { 'server.port': 0, dataDir: join(tempDir(), 'data'), 'log.level': 'silent', 'modules.workflow': { timeoutPollMs: 100, sweepIntervalMs: 1000, roleTtlMs: 2000 } },
  });
  server = await startServer(cfg, modules, 'test');
  base = `${server.url}/api/v1/workflow`;
  // Most tests run the order workflow: applied here, so that no test depends on another having run first.
  applied = await api('POST', '/definitions', ORDER, 'application/yaml');
}, 180_000);
afterAll(async () => {
  await server?.stop();
  target.stop(true);
});

async function api(method: string, path: string, body?: unknown, type = 'application/json') {
  const res = await fetch(base + path, { method, headers: { 'content-type': type }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const ORDER = `
name: order
start: created
states:
  created:  { callback: { to: [paid, cancelled] }, timeout: { after: 1h, to: cancelled } }
  paid:     { http: { url: "http://127.0.0.1:${target.port}/ship", to: [shipped, failed] }, parallel: 5 }
  shipped:  {}
  cancelled: {}
  failed: {}
`;

describe('workflow acceptance', () => {
  it('applies the order definition and returns its graph as Mermaid', async () => {
    const res = applied;
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'order', kind: 'state-machine', version: 1 });
    expect(res.body.mermaid).toContain('stateDiagram-v2');
    const got = await api('GET', '/definitions/order');
    expect(got.body.mermaid).toContain('created --> paid');
  });

  it('callback moves a run on; the http step ships it; history and run state tell the story', async () => {
    const t = await api('POST', '/workflows/order/runs', { foreignId: 'order-1', object: { items: 2 } });
    expect(t.status).toBe(201);
    const runId = t.body.runId as string;
    const dup = await api('POST', '/workflows/order/runs', { foreignId: 'order-1' });
    expect(dup.status).toBe(409);
    expect(dup.body.activeRunId).toBe(runId);
    const wrong = await api('POST', `/runs/${runId}/callback/paid`, { status: 'shipped' });
    expect(wrong.status).toBe(409);
    const cb = await api('POST', `/runs/${runId}/callback/created`, { status: 'paid' });
    expect(cb.status).toBe(200);
    // The same callback again (its answer lost): the move is recorded, so it answers the run, not 409, and moves nothing.
    const again = await api('POST', `/runs/${runId}/callback/created`, { status: 'paid' });
    expect(again.status).toBe(200);
    expect(again.body.runId).toBe(runId);
    expect((await api('POST', `/runs/${runId}/callback/created`, { status: 'shipped' })).status).toBe(409);
    const done = await api('GET', `/runs/${runId}/await?status=shipped&timeout=20s`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'shipped', runState: 'completed', object: { items: 2, shippedBy: 'target' } });
    const history = await api('GET', `/runs/${runId}/history`);
    expect(history.body.history.map((h: { status: string }) => h.status)).toEqual(['created', 'paid', 'shipped']);
    // Await on a status the run already passed answers at once (no race with the past).
    expect((await api('GET', `/runs/${runId}/await?status=paid&timeout=1s`)).status).toBe(200);
    // A finished run frees the foreign id.
    expect((await api('POST', '/workflows/order/runs', { foreignId: 'order-1' })).status).toBe(201);
  });

  it('a run nobody calls back is cancelled by its timeout', async () => {
    // Its own copy of order with a 1 s timeout: the other tests' callbacks must not race a timeout on a loaded machine.
    const quick = ORDER.replace('name: order', 'name: order-quick-timeout').replace('after: 1h', 'after: 1s');
    expect((await api('POST', '/definitions', quick, 'application/yaml')).status).toBe(201);
    const t = await api('POST', '/workflows/order-quick-timeout/runs', { foreignId: 'order-timeout' });
    const done = await api('GET', `/runs/${t.body.runId}/await?status=cancelled&timeout=20s`);
    expect(done.status).toBe(200);
    expect(done.body.runState).toBe('completed');
  });

  it('twenty runs through a step with parallel: 5 all complete, each shipped exactly once when nothing fails', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const t = await api('POST', '/workflows/order/runs', { foreignId: `bulk-${i}`, object: { fail: i === 7 } });
      ids.push(t.body.runId);
      await api('POST', `/runs/${t.body.runId}/callback/created`, { status: 'paid' });
    }
    for (const [i, id] of ids.entries()) {
      const want = i === 7 ? 'failed' : 'shipped';
      const r = await api('GET', `/runs/${id}/await?status=${want}&timeout=30s`);
      expect(r.status, `run ${i}`).toBe(200);
      // Without faults a step runs once per (run, status): the event path and the sweep never both run it.
      expect(calls.get(`/ship:${id}:paid`)).toBe(1);
    }
    const list = await api('GET', '/runs?workflow=order&status=shipped&limit=1000');
    expect(list.body.runs.length).toBeGreaterThanOrEqual(19);
  });

  it('pause, resume and cancel through the API; bad input gets clear errors', async () => {
    const t = await api('POST', '/workflows/order/runs', { foreignId: 'ctl' });
    const id = t.body.runId;
    expect((await api('POST', `/runs/${id}/pause`, { reason: 'hold' })).body).toMatchObject({ runState: 'paused', reason: 'hold' });
    // A repeat (its first answer lost) finds the pause recorded: 200 with the run as the first pause left it.
    const repeated = await api('POST', `/runs/${id}/pause`, {});
    expect(repeated.status).toBe(200);
    expect(repeated.body).toMatchObject({ runState: 'paused', reason: 'hold' });
    expect((await api('POST', `/runs/${id}/resume`, {})).body.runState).toBe('running');
    expect((await api('POST', `/runs/${id}/cancel`, {})).body.runState).toBe('cancelled');
    // Cancelled is not the running state a resume asks for.
    expect((await api('POST', `/runs/${id}/resume`, {})).status).toBe(409);
    expect((await api('GET', '/runs/nope')).status).toBe(404);
    expect((await api('POST', '/runs/nope/callback/created', { status: 'paid' })).status).toBe(404);
    expect((await api('POST', '/workflows/missing/runs', { foreignId: 'x' })).status).toBe(404);
    const bad = await api('POST', '/definitions', 'name: bad\nstart: a\nstates:\n  a: { callback: { to: [nowhere] } }\n', 'application/yaml');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.errors)).toContain('body.states.a.callback.to.0');
  });

  it('exposes the workflow metrics', async () => {
    // A run of its own through the paid step, so the series exist whichever tests ran before.
    const t = await api('POST', '/workflows/order/runs', { foreignId: 'metrics-1' });
    await api('POST', `/runs/${t.body.runId}/callback/created`, { status: 'paid' });
    expect((await api('GET', `/runs/${t.body.runId}/await?status=shipped&timeout=20s`)).status).toBe(200);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/workflow_run_state_changes_total\{workflow="order",from="running",to="completed"\} [1-9]/);
    expect(text).toMatch(/workflow_process_latency_seconds_count\{workflow="order",process="order-paid-consumer-\d-of-5"\} [1-9]/);
    expect(text).toContain('workflow_process_lag_seconds');
  });

  it('a DAG with fan-out, fan-in, a retried flaky step and a condition', async () => {
    const dag = {
      name: 'calc',
      steps: [
        { id: 'sum', action: { name: 'mathx.add' }, input: { a: '{{ input.a }}', b: '{{ input.b }}' } },
        { id: 'double', needs: ['sum'], http: { url: `http://127.0.0.1:${target.port}/double` }, input: { n: '{{ steps.sum.output.sum }}' } },
        { id: 'flaky', needs: ['sum'], http: { url: `http://127.0.0.1:${target.port}/flaky` }, retry: { attempts: 4, backoff: '50ms' } },
        { id: 'big', needs: ['double', 'flaky'], when: 'steps.double.output.doubled > 100', action: { name: 'mathx.add' }, input: { a: 1, b: 1 } },
        { id: 'join', needs: ['double', 'flaky'], action: { name: 'mathx.add' }, input: { a: '{{ steps.double.output.doubled }}', b: 1 } },
      ],
    };
    const applied = await api('POST', '/definitions', dag);
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const t = await api('POST', '/workflows/calc/runs', { foreignId: 'c1', object: { a: 2, b: 3 } });
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    const done = await api('GET', `/runs/${t.body.runId}/await?status=completed&timeout=30s`);
    expect(done.status).toBe(200);
    const steps = done.body.object.steps;
    expect(steps.sum).toMatchObject({ status: 'completed', output: { sum: 5 } });
    expect(steps.double).toMatchObject({ status: 'completed', output: { doubled: 10 } });
    expect(steps.flaky).toMatchObject({ status: 'completed', attempts: 3 });
    expect(steps.big.status).toBe('skipped');
    expect(steps.join).toMatchObject({ status: 'completed', output: { sum: 11 } });
  });
});
