/**
 * Pause, resume and cancel repeated after their first answer was lost (issue 8 §6): the repeat finds the state it asks
 * for already recorded and answers the run as it is (200 at the edge), not a 409; nothing more is written. A request
 * for a state the run never reached that way is still a 409. Engine on the in-memory store and a fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../../src/kernel/clock/index.ts';
import { Conflict } from '../../../../src/kernel/errors.ts';
import { defineWorkflow } from '../../../../src/modules/workflow/model/builder.ts';
import { rejection } from '../../../helpers/async.ts';
import { memoryEngine, stopMemoryEngines } from '../../../helpers/memory-workflow-engine.ts';

afterEach(stopMemoryEngines);

const payment = () =>
  defineWorkflow<{ amount: number }, 'awaiting-payment' | 'paid'>('payment')
    .callback('awaiting-payment', () => 'paid', 'paid')
    .build();

describe('run control repeated after a lost answer', () => {
  it('a second pause answers the paused run as the first left it (its reason, its version), writing nothing', async () => {
    const clock = new FakeClock();
    const { engine, store } = await memoryEngine(clock, {}, payment());
    const run = await engine.trigger('payment', 'o-1', { amount: 5 });
    const paused = await engine.pause(run.runId, 'hold');
    await clock.advance(1_000);
    const again = await engine.pause(run.runId, 'hold');
    expect(again).toMatchObject({ runId: run.runId, runState: 'paused', reason: 'hold', version: paused.version });
    expect((await store.history(run.runId)).map((h) => h.runState)).toEqual(['running', 'paused']);
  });

  it('a second resume answers the running run, also after it moved on; a resume of a run never paused is a 409', async () => {
    const clock = new FakeClock();
    const { engine, store } = await memoryEngine(clock, {}, payment());
    const run = await engine.trigger('payment', 'o-2', { amount: 5 });
    expect(await rejection(engine.resume(run.runId))).toBeInstanceOf(Conflict);
    await engine.pause(run.runId);
    const resumed = await engine.resume(run.runId);
    const again = await engine.resume(run.runId);
    expect(again).toMatchObject({ runState: 'running', status: 'awaiting-payment', version: resumed.version });
    expect((await store.history(run.runId)).map((h) => h.runState)).toEqual(['running', 'paused', 'running']);
    // The run went on before the repeat arrived: still the resume's outcome, answered as the run is now.
    const moved = await engine.callback(run.runId, 'awaiting-payment', {});
    expect(moved).toMatchObject({ status: 'paid', runState: 'completed' });
    const late = await rejection(engine.resume(run.runId));
    // Completed is not the running state the resume asked for: that is a conflict, not a lost answer.
    expect(late).toBeInstanceOf(Conflict);
    expect((late as Conflict).message).toContain('completed');
  });

  it('a second cancel answers the cancelled run; cancelling a completed run is still a 409', async () => {
    const clock = new FakeClock();
    const { engine, store } = await memoryEngine(clock, {}, payment());
    const run = await engine.trigger('payment', 'o-3', { amount: 5 });
    const cancelled = await engine.cancel(run.runId, 'customer left');
    const again = await engine.cancel(run.runId, 'customer left');
    expect(again).toMatchObject({ runState: 'cancelled', reason: 'customer left', version: cancelled.version });
    expect((await store.history(run.runId)).map((h) => h.runState)).toEqual(['running', 'cancelled']);
    // A cancelled run cannot be paused or resumed: those states were never recorded for it.
    expect(await rejection(engine.pause(run.runId))).toBeInstanceOf(Conflict);
    expect(await rejection(engine.resume(run.runId))).toBeInstanceOf(Conflict);

    const other = await engine.trigger('payment', 'o-4', { amount: 5 });
    await engine.callback(other.runId, 'awaiting-payment', {});
    expect(await rejection(engine.cancel(other.runId))).toBeInstanceOf(Conflict);
  });
});
