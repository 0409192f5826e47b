/**
 * The workflow engine on the in-memory store, bus, KV and roles with a fake clock: timeouts, step backoff, the resume
 * of runs paused by errors, schedules and await are driven by stepping time, so an hour passes in milliseconds.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../../src/kernel/bus/memory-bus.ts';
import { FakeClock } from '../../../../src/kernel/clock/index.ts';
import { KvLeases } from '../../../../src/kernel/kv/leases.ts';
import { MemoryKvStore } from '../../../../src/kernel/kv/memory-kv.ts';
import { createLogger } from '../../../../src/kernel/log.ts';
import { createRoles } from '../../../../src/kernel/roles/roles.ts';
import { defineWorkflow, type AnyWorkflowSpec } from '../../../../src/modules/workflow/model/builder.ts';
import { WorkflowEngine } from '../../../../src/modules/workflow/runtime/engine.ts';
import { createWorkflowMetrics } from '../../../../src/modules/workflow/runtime/metrics.ts';
import { createMemoryWorkflowStore, type MemoryWorkflowStore } from '../../../../src/modules/workflow/store/index.ts';

const HOUR = 3_600_000;
const log = createLogger({ level: 'silent' });
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** One engine on memory adapters, every timer on `clock`; started with `workflows` registered. */
async function engineOn(clock: FakeClock, ...workflows: AnyWorkflowSpec[]): Promise<{ engine: WorkflowEngine; store: MemoryWorkflowStore }> {
  const registry = new Registry();
  const bus = new MemoryBus({ source: 'unit' });
  const kv = new MemoryKvStore();
  const roles = createRoles({ leases: new KvLeases(kv, 'unit', { clock }), kv, owner: 'unit', registry, log, clock });
  const store = createMemoryWorkflowStore({ clock, bus, log });
  const engine = new WorkflowEngine({ store, bus, roles, kv, log, metrics: createWorkflowMetrics(registry), clock, leaseTtlMs: 5_000, sweepIntervalMs: 10_000, timeoutPollMs: 500, retryPausedAfterMs: 300_000 });
  for (const w of workflows) await engine.register(w);
  engine.start();
  stops.push(async () => {
    await engine.stop();
    await roles.close();
    await bus.close();
    await kv.close();
  });
  // The roles are taken and the first polls made without any time passing.
  await clock.settle(5);
  return { engine, store };
}

type Pay = 'awaiting-payment' | 'paid' | 'expired';
const payment = () =>
  defineWorkflow<{ amount: number }, Pay>('payment')
    .callback('awaiting-payment', () => 'paid', 'paid')
    .timeout('awaiting-payment', HOUR, () => 'expired', 'expired')
    .build();

describe('workflow engine on a fake clock', () => {
  it('fires a one-hour timeout as soon as the clock is stepped past the hour, and not a moment before', async () => {
    const clock = new FakeClock({ start: new Date('2026-06-01T09:00:00Z') });
    const { engine, store } = await engineOn(clock, payment());
    const run = await engine.trigger('payment', 'order-1', { amount: 5 });
    await clock.advance(HOUR - 1);
    expect(await store.lookup(run.runId)).toMatchObject({ status: 'awaiting-payment', runState: 'running' });
    await clock.advance(500);
    const after = await store.lookup(run.runId);
    expect(after).toMatchObject({ status: 'expired', runState: 'completed' });
    // Moved by the poll due right after the hour, at the fake time, not at the real one.
    expect(after!.updatedAt.getTime() - run.createdAt.getTime()).toBeGreaterThanOrEqual(HOUR);
    expect(after!.updatedAt.getTime() - run.createdAt.getTime()).toBeLessThanOrEqual(HOUR + 500);
    expect((await store.history(run.runId)).map((h) => h.status)).toEqual(['awaiting-payment', 'expired']);
  });

  it('a callback before the hour cancels the timeout: stepping on past it changes nothing', async () => {
    const clock = new FakeClock();
    const { engine, store } = await engineOn(clock, payment());
    const run = await engine.trigger('payment', 'order-2', { amount: 5 });
    await clock.advance(HOUR / 2);
    await engine.callback(run.runId, 'awaiting-payment', {});
    await clock.advance(2 * HOUR);
    expect(await store.lookup(run.runId)).toMatchObject({ status: 'paid', runState: 'completed' });
    expect(await store.expiredTimeouts(clock.date(), 10)).toEqual([]);
  });

  it('a failing step with a retry policy is tried again after its backoff, not before', async () => {
    const clock = new FakeClock();
    let attempts = 0;
    const flaky = defineWorkflow<Record<string, never>, 'send' | 'sent'>('flaky')
      .step(
        'send',
        () => {
          attempts++;
          if (attempts === 1) throw new Error('remote said no');
          return 'sent';
        },
        'sent',
        { retry: { attempts: 3, backoffMs: 60_000 } },
      )
      .build();
    const { engine, store } = await engineOn(clock, flaky);
    const run = await engine.trigger('flaky', 'f-1');
    await clock.advance(1);
    expect(attempts).toBe(1);
    await clock.advance(58_000);
    expect(attempts).toBe(1);
    await clock.advance(2_000);
    expect(attempts).toBe(2);
    expect(await store.lookup(run.runId)).toMatchObject({ status: 'sent', runState: 'completed' });
  });

  it('a run paused by errors is resumed after retryPausedAfterMs of fake time', async () => {
    const clock = new FakeClock();
    let attempts = 0;
    const stubborn = defineWorkflow<Record<string, never>, 'work' | 'done'>('stubborn')
      .step(
        'work',
        () => {
          if (++attempts <= 2) throw new Error('not yet');
          return 'done';
        },
        'done',
        { retry: { attempts: 2, backoffMs: 1_000 } },
      )
      .build();
    const { engine, store } = await engineOn(clock, stubborn);
    const run = await engine.trigger('stubborn', 's-1');
    await clock.advance(5_000);
    expect(await store.lookup(run.runId)).toMatchObject({ runState: 'paused' });
    expect((await store.lookup(run.runId))!.reason).toMatch(/^errors:/);
    await clock.advance(300_000 + 30_000);
    expect(await store.lookup(run.runId)).toMatchObject({ status: 'done', runState: 'completed' });
    expect(attempts).toBe(3);
  });

  it('fires an hourly schedule once per hour of fake time', async () => {
    const clock = new FakeClock({ start: new Date('2026-06-01T09:30:00Z') });
    const ticking = defineWorkflow<Record<string, never>, 'tick' | 'done'>('ticking')
      .step('tick', () => 'done', 'done')
      .schedule('hourly', '0 * * * *', { foreignId: 'tick' })
      .build();
    const { store } = await engineOn(clock, ticking);
    const starts = () => store.outbox.filter((e) => e.type === 'workflow.run.created').length;
    await clock.advanceTo(new Date('2026-06-01T09:59:59Z'));
    expect(starts()).toBe(0);
    await clock.advanceTo(new Date('2026-06-01T11:00:30Z'));
    expect(starts()).toBe(2);
    expect(await store.latest('ticking', 'tick')).toMatchObject({ status: 'done', runState: 'completed' });
  });

  it('await gives up after its timeout in fake time', async () => {
    const clock = new FakeClock();
    const { engine } = await engineOn(clock, payment());
    const run = await engine.trigger('payment', 'order-3', { amount: 1 });
    let answered: unknown = 'pending';
    const waiting = engine.await(run.runId, 'paid', 10_000).then((r) => (answered = r));
    await clock.advance(9_999);
    expect(answered).toBe('pending');
    await clock.advance(1);
    await waiting;
    expect(answered).toBeUndefined();
  });
});
