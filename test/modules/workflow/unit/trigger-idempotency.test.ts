/**
 * Trigger idempotency on the engine with the in-memory store and a fake clock: a repeated key answers the first run,
 * another body is a 422 naming the header, and a key is forgotten (and swept) 24 hours on, so a day passes at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../../src/kernel/clock/index.ts';
import { memoryEngine, stopMemoryEngines } from '../../../helpers/memory-workflow-engine.ts';
import { defineWorkflow } from '../../../../src/modules/workflow/model/builder.ts';
import { IdempotencyKeyReused, requestHash } from '../../../../src/modules/workflow/runtime/trigger-once.ts';
import { rejection } from '../../../helpers/async.ts';

const HOUR = 3_600_000;
afterEach(stopMemoryEngines);

const payment = () =>
  defineWorkflow<{ amount: number }, 'awaiting-payment' | 'paid'>('payment')
    .callback('awaiting-payment', () => 'paid', 'paid')
    .build();

describe('trigger idempotency on a fake clock', () => {
  it('a repeat answers the first run, also once it finished; another body is refused naming the header', async () => {
    const clock = new FakeClock({ start: new Date('2026-06-01T09:00:00Z') });
    const { engine, store } = await memoryEngine(clock, {}, payment());
    const body = { foreignId: 'o-1', object: { amount: 5 } };
    const first = await engine.triggerWithKey('payment', 'o-1', { amount: 5 }, undefined, 'k1', requestHash(body));
    expect(first).toEqual({ answer: { runId: expect.any(String), status: 'awaiting-payment', runState: 'running' }, replayed: false });
    // Key order in the body does not matter.
    const again = await engine.triggerWithKey('payment', 'o-1', { amount: 5 }, undefined, 'k1', requestHash({ object: { amount: 5 }, foreignId: 'o-1' }));
    expect(again).toEqual({ answer: first.answer, replayed: true });
    await engine.callback(first.answer.runId, 'awaiting-payment', {});
    // Finished: without the key this would start a second run for o-1; with it, the first answer comes back.
    expect(await engine.triggerWithKey('payment', 'o-1', { amount: 5 }, undefined, 'k1', requestHash(body))).toEqual({ answer: first.answer, replayed: true });
    expect((await store.latest('payment', 'o-1'))!.runId).toBe(first.answer.runId);
    const other = await rejection(engine.triggerWithKey('payment', 'o-1', { amount: 6 }, undefined, 'k1', requestHash({ ...body, object: { amount: 6 } })));
    expect(other).toBeInstanceOf(IdempotencyKeyReused);
    expect(other).toMatchObject({ status: 422, details: { errors: [{ path: 'header.idempotency-key' }] } });
    // Kept 24 hours by default.
    expect(await store.findTriggerKey('payment', 'k1', new Date(clock.now() + 24 * HOUR - 1))).toMatchObject({ runId: first.answer.runId });
    expect(await store.findTriggerKey('payment', 'k1', new Date(clock.now() + 24 * HOUR))).toBeUndefined();
  });

  it('a key is kept for its lifetime: just before, it still answers; after, it starts a new run; the sweep removes expired keys', async () => {
    const MINUTE = 60_000;
    const clock = new FakeClock({ start: new Date('2026-06-01T09:00:00Z') });
    const { engine, store } = await memoryEngine(clock, { triggerKeyTtlMs: MINUTE }, payment());
    const hash = requestHash({ foreignId: 'o-2' });
    const first = await engine.triggerWithKey('payment', 'o-2', {}, undefined, 'k2', hash);
    await engine.callback(first.answer.runId, 'awaiting-payment', {});
    await clock.advance(MINUTE - 1);
    expect((await engine.triggerWithKey('payment', 'o-2', {}, undefined, 'k2', hash)).replayed).toBe(true);
    await clock.advance(1);
    const second = await engine.triggerWithKey('payment', 'o-2', {}, undefined, 'k2', hash);
    expect(second.replayed).toBe(false);
    expect(second.answer.runId).not.toBe(first.answer.runId);
    // A key nobody asks for again is swept by the role-held sweeper (every 10 minutes), not only on lookup.
    await engine.triggerWithKey('payment', 'o-3', {}, undefined, 'k3', requestHash({ foreignId: 'o-3' }));
    await clock.advance(11 * MINUTE);
    await clock.settle(5);
    expect(await store.deleteExpiredTriggerKeys(clock.date(), 100)).toBe(0);
    // Asked as of a moment before it expired: a key still stored would be returned.
    expect(await store.findTriggerKey('payment', 'k3', new Date(clock.now() - 11 * MINUTE))).toBeUndefined();
  });
});
