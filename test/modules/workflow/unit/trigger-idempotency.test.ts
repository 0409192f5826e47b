/**
 * Trigger idempotency on the engine with the in-memory store and a fake clock: a repeated key answers the first run,
 * another body is a 422 naming the header, and a key is forgotten (and swept) 24 hours on, so a day passes at once.
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
import { IdempotencyKeyReused, requestHash } from '../../../../src/modules/workflow/runtime/trigger-once.ts';
import { rejection } from '../../../helpers/async.ts';

const HOUR = 3_600_000;
const log = createLogger({ level: 'silent' });
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** One engine on memory adapters, every timer on `clock`; started with `workflows` registered. */
async function engineOn(clock: FakeClock, triggerKeyTtlMs: number | undefined, ...workflows: AnyWorkflowSpec[]): Promise<{ engine: WorkflowEngine; store: MemoryWorkflowStore }> {
  const registry = new Registry();
  const bus = new MemoryBus({ source: 'unit' });
  const kv = new MemoryKvStore();
  const roles = createRoles({ leases: new KvLeases(kv, 'unit', { clock }), kv, owner: 'unit', registry, log, clock });
  const store = createMemoryWorkflowStore({ clock, bus, log });
  const engine = new WorkflowEngine({ store, bus, roles, kv, log, metrics: createWorkflowMetrics(registry), clock, leaseTtlMs: 5_000, sweepIntervalMs: 10_000, timeoutPollMs: 500, retryPausedAfterMs: 300_000, triggerKeyTtlMs });
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

const payment = () =>
  defineWorkflow<{ amount: number }, 'awaiting-payment' | 'paid'>('payment')
    .callback('awaiting-payment', () => 'paid', 'paid')
    .build();

describe('trigger idempotency on a fake clock', () => {
  it('a repeat answers the first run, also once it finished; another body is refused naming the header', async () => {
    const clock = new FakeClock({ start: new Date('2026-06-01T09:00:00Z') });
    const { engine, store } = await engineOn(clock, undefined, payment());
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
    const { engine, store } = await engineOn(clock, MINUTE, payment());
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
