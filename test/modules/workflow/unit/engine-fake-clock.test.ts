/**
 * The workflow engine on the in-memory store, bus, KV and roles with a fake clock: timeouts, step backoff, the resume
 * of runs paused by errors, schedules and await are driven by stepping time, so an hour passes in milliseconds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../../src/kernel/clock/index.ts';
import { memoryEngine, stopMemoryEngines } from '../../../helpers/memory-workflow-engine.ts';
import { defineWorkflow } from '../../../../src/modules/workflow/model/builder.ts';

const HOUR = 3_600_000;
afterEach(stopMemoryEngines);

type Pay = 'awaiting-payment' | 'paid' | 'expired';
const payment = () =>
  defineWorkflow<{ amount: number }, Pay>('payment')
    .callback('awaiting-payment', () => 'paid', 'paid')
    .timeout('awaiting-payment', HOUR, () => 'expired', 'expired')
    .build();

describe('workflow engine on a fake clock', () => {
  it('fires a one-hour timeout as soon as the clock is stepped past the hour, and not a moment before', async () => {
    const clock = new FakeClock({ start: new Date('2026-06-01T09:00:00Z') });
    const { engine, store } = await memoryEngine(clock, {}, payment());
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
    const { engine, store } = await memoryEngine(clock, {}, payment());
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
    const { engine, store } = await memoryEngine(clock, {}, flaky);
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
    const { engine, store } = await memoryEngine(clock, {}, stubborn);
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
    const { store } = await memoryEngine(clock, {}, ticking);
    const starts = () => store.outbox.filter((e) => e.type === 'workflow.run.created').length;
    await clock.advanceTo(new Date('2026-06-01T09:59:59Z'));
    expect(starts()).toBe(0);
    await clock.advanceTo(new Date('2026-06-01T11:00:30Z'));
    expect(starts()).toBe(2);
    expect(await store.latest('ticking', 'tick')).toMatchObject({ status: 'done', runState: 'completed' });
  });

  it('wakes for the timeout when it is due, not at its safety-net period: armed at any time, fired on the due millisecond', async () => {
    const clock = new FakeClock({ start: new Date('2026-06-01T09:00:00Z') });
    // A safety net of ten hours: a timeout fired within the hour was found by the poller's own wake-up.
    const { engine, store } = await memoryEngine(clock, { timeoutPollMs: 10 * HOUR }, payment());
    await clock.advance(1_234); // the poller sleeps with nothing pending when the run arms its timeout
    const run = await engine.trigger('payment', 'order-wake', { amount: 5 });
    await clock.advance(HOUR - 1);
    expect(await store.lookup(run.runId)).toMatchObject({ status: 'awaiting-payment' });
    await clock.advance(1);
    const after = await store.lookup(run.runId);
    expect(after).toMatchObject({ status: 'expired', runState: 'completed' });
    expect(after!.updatedAt.getTime() - run.createdAt.getTime()).toBe(HOUR);
  });

  it('a timeout armed on instance A fires on instance B, which holds the timeouts role, when it is due', async () => {
    const clock = new FakeClock({ start: new Date('2026-06-01T09:00:00Z') });
    // B starts first and takes the singleton roles; A joins the same store, bus and KV afterwards.
    const b = await memoryEngine(clock, { timeoutPollMs: 10 * HOUR }, payment());
    const a = await memoryEngine(clock, { timeoutPollMs: 10 * HOUR, joins: b.deployment }, payment());
    const run = await a.engine.trigger('payment', 'order-a', { amount: 5 });
    // A goes away: whatever fires the timeout now is B, woken by the run's status_changed event on the bus.
    await a.engine.stop();
    await clock.advance(HOUR - 1);
    expect(await b.store.lookup(run.runId)).toMatchObject({ status: 'awaiting-payment' });
    await clock.advance(1);
    const after = await b.store.lookup(run.runId);
    expect(after).toMatchObject({ status: 'expired', runState: 'completed' });
    expect(after!.updatedAt.getTime() - run.createdAt.getTime()).toBe(HOUR);
  });

  it('await gives up after its timeout in fake time', async () => {
    const clock = new FakeClock();
    const { engine } = await memoryEngine(clock, {}, payment());
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
