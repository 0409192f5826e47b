/** Code-defined workflows (defineWorkflow): step controls, destination checks, errors pausing a run, connectors and schedules. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { createWorkflowModule, defineWorkflow } from '../../src/modules/workflow/index.ts';
import { tempDir } from '../helpers/server-process.ts';
import { eventually } from '../kit/index.ts';

type Obj = { count: number; mode?: string; note?: string };
type S = 'start' | 'counting' | 'done' | 'rejected';

let failures = 0;
/** Event ids the sharded connector was called with, to show each event went to one shard once. */
const bulkCalls: string[] = [];
const counter = defineWorkflow<Obj, S>('counter')
  .step(
    'start',
    (run) => {
      if (run.object.mode === 'pause') return run.pause('asked to pause');
      if (run.object.mode === 'cancel') return run.cancel('asked to cancel');
      if (run.object.mode === 'bad') return 'done' as S; // not an allowed destination of 'start'
      if (run.object.mode === 'boom') {
        failures++;
        throw new Error('step exploded');
      }
      return 'counting';
    },
    'counting',
    'rejected',
    { pauseAfterErrCount: 3 },
  )
  .step(
    'counting',
    (run) => {
      run.object.count++;
      return run.object.count < 3 ? run.saveAndRepeat() : 'done';
    },
    'done',
  )
  .connector('orders', 'shop.order.placed', (e) => ({ trigger: { foreignId: String((e.data as { id: string }).id), object: { count: 0 } } }))
  .connector(
    'bulk',
    'shop.bulk.placed',
    (e) => {
      bulkCalls.push(e.id);
      return { trigger: { foreignId: String((e.data as { id: string }).id), object: { count: 0 } } };
    },
    { parallel: 3 },
  )
  .schedule('every-second', '* * * * * *', { foreignId: 'cron', object: { count: 0 } })
  .build();

/** Builds a value nested `depth` levels deep. */
function nested(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

/** A step whose answer cannot be stored (as an http step's answer could be), and a connector carrying such data. */
const deep = defineWorkflow<{ payload?: unknown }, 'start' | 'done'>('deep')
  .step(
    'start',
    (run) => {
      run.object.payload = nested(100);
      return 'done';
    },
    'done',
    { pauseAfterErrCount: 2 },
  )
  .connector('feed', 'shop.deep.sent', (e) => ({ trigger: { foreignId: String((e.data as { id: string }).id), object: (e.data as { body: unknown }).body } }))
  .build();

let server: RunningServer;
let base: string;
beforeAll(async () => {
  const modules = [createWorkflowModule({ workflows: [counter, deep] })];
  const cfg = loadConfig(modules, {
    env: {},
    flags: { 'server.port': 0, dataDir: join(tempDir(), 'data'), 'log.level': 'silent', 'modules.workflow': { timeoutPollMs: 100, sweepIntervalMs: 500, roleTtlMs: 2000 } },
  });
  server = await startServer(cfg, modules, 'test');
  base = `${server.url}/api/v1`;
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
async function trigger(foreignId: string, object: Obj) {
  const t = await api('POST', '/workflow/workflows/counter/runs', { foreignId, object });
  expect(t.status).toBe(201);
  return t.body.runId as string;
}
async function until(runId: string, pred: (r: { status: string; runState: string; object: Obj; reason: string | null }) => boolean) {
  return eventually(
    async () => {
      const r = (await api('GET', `/workflow/runs/${runId}`)).body;
      return pred(r) ? r : undefined;
    },
    { timeout: 10_000, what: `run ${runId} in the expected state` },
  );
}

describe('code-defined workflows', () => {
  it('saveAndRepeat runs a step again with the saved object until it moves on', async () => {
    const id = await trigger('repeat', { count: 0 });
    const r = await until(id, (x) => x.runState === 'completed');
    expect(r).toMatchObject({ status: 'done', object: { count: 3 } });
    const statuses = (await api('GET', `/workflow/runs/${id}/history`)).body.history.map((h: { status: string }) => h.status);
    expect(statuses).toEqual(['start', 'counting', 'counting', 'counting', 'done']);
  });

  it('pause and cancel from inside a step', async () => {
    const p = await until(await trigger('p', { count: 0, mode: 'pause' }), (x) => x.runState === 'paused');
    expect(p.reason).toBe('asked to pause');
    const c = await until(await trigger('c', { count: 0, mode: 'cancel' }), (x) => x.runState === 'cancelled');
    expect(c.status).toBe('start');
  });

  it('a step error is retried and, after pauseAfterErrCount, pauses the run with the reason', async () => {
    const r = await until(await trigger('boom', { count: 0, mode: 'boom' }), (x) => x.runState === 'paused');
    expect(r.reason).toMatch(/^errors: 3 failed attempts at 'start': step exploded/);
    expect(failures).toBe(3);
  });

  it('a destination the step may not take is an error, not a transition', async () => {
    const r = await until(await trigger('bad', { count: 0, mode: 'bad' }), (x) => x.runState === 'paused');
    expect(r.status).toBe('start');
    expect(r.reason).toContain("'done' is not a destination of 'start'");
  });

  it('a connector turns bus events into runs; the webhook form does too', async () => {
    expect((await api('POST', '/events', { type: 'shop.order.placed', data: { id: 'o-77' } })).status).toBe(202);
    const list = async () => (await api('GET', '/workflow/runs?workflow=counter&foreignId=o-77')).body.runs as unknown[];
    await eventually(async () => (await list()).length > 0, { timeout: 5_000, what: 'the run the event made' });
    expect(await list()).toHaveLength(1);
    const hook = await api('POST', '/workflow/connectors/counter/orders', { id: 'o-78' });
    expect(hook).toMatchObject({ status: 202, body: { result: 'done' } });
    expect((await api('GET', '/workflow/runs?workflow=counter&foreignId=o-78')).body.runs).toHaveLength(1);
    expect((await api('POST', '/workflow/connectors/counter/nope', {})).status).toBe(404);
  });

  it('a connector with parallel: 3 holds three roles on one durable: every event makes its run, each handled once', async () => {
    for (let shard = 0; shard < 3; shard++) {
      const lease = await api('GET', `/leases/counter-connector-bulk-${shard}-of-3?ttlMs=2000`);
      expect(lease.status, `shard ${shard}`).toBe(200);
    }
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await api('POST', '/events', { type: 'shop.bulk.placed', data: { id: `bulk-${i}` } });
      ids.push(res.body.id);
    }
    const count = async () => ((await api('GET', '/workflow/runs?workflow=counter&limit=1000')).body.runs as { foreignId: string }[]).filter((r) => r.foreignId.startsWith('bulk-')).length;
    await eventually(async () => (await count()) >= 30, { timeout: 10_000, what: '30 runs from 30 events' });
    expect(await count()).toBe(30);
    expect([...bulkCalls].sort()).toEqual([...ids].sort());
  });

  it('a step object that cannot be stored pauses the run with the reason; a connector event carrying one is skipped, the next one works', async () => {
    const t = await api('POST', '/workflow/workflows/deep/runs', { foreignId: 'd-1', object: {} });
    expect(t.status).toBe(201);
    const r = await until(t.body.runId, (x) => x.runState === 'paused');
    expect(r.status).toBe('start');
    expect(r.reason).toContain('nested deeper than 64 levels');
    await api('POST', '/events', { type: 'shop.deep.sent', data: { id: 'too-deep', body: nested(100) } });
    await api('POST', '/events', { type: 'shop.deep.sent', data: { id: 'fine', body: { ok: true } } });
    const runsOf = async (foreignId: string) => (await api('GET', `/workflow/runs?workflow=deep&foreignId=${foreignId}`)).body.runs as unknown[];
    await eventually(async () => (await runsOf('fine')).length > 0, { timeout: 5_000, what: "the 'fine' event's run" });
    expect(await runsOf('fine')).toHaveLength(1);
    expect(await runsOf('too-deep')).toHaveLength(0);
  });

  it('a schedule starts runs for its foreign id, one per slot, never two at once', async () => {
    const runs = async () => (await api('GET', '/workflow/runs?workflow=counter&foreignId=cron&limit=100')).body.runs as { runId: string; runState: string }[];
    await eventually(async () => (await runs()).length >= 2, { timeout: 10_000, interval: 100, what: 'two scheduled runs' });
    const all = await runs();
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.filter((r) => ['initiated', 'running', 'paused'].includes(r.runState)).length).toBeLessThanOrEqual(1);
  });
});
