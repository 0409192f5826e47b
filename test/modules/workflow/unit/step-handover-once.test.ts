/**
 * A step shard handed over on a graceful stop while its step is in flight: the step runs once. Two engines (two
 * instances) share one memory store, bus and KV; each has its own roles and its own cache of the runs it wrote. The
 * stopping instance finishes the step before it releases the shard, but its bus subscription hands the step's event
 * back on the way out, so the next holder gets that event again. The next holder wrote the run itself (the trigger
 * came to it), so its cache still had the run at the event's version: it used to believe that and call the step a
 * second time (found by the workflow-shards e2e, once in 8 loaded runs). It must read the run instead.
 */
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { MemoryBus } from '../../../../src/kernel/bus/memory-bus.ts';
import type { EventBus, Subscription } from '../../../../src/kernel/bus/port.ts';
import { KvLeases } from '../../../../src/kernel/kv/leases.ts';
import { MemoryKvStore } from '../../../../src/kernel/kv/memory-kv.ts';
import { createLogger } from '../../../../src/kernel/log.ts';
import { createRoles } from '../../../../src/kernel/roles/roles.ts';
import type { Roles } from '../../../../src/kernel/roles/types.ts';
import { defineWorkflow } from '../../../../src/modules/workflow/model/builder.ts';
import { WorkflowEngine } from '../../../../src/modules/workflow/runtime/engine.ts';
import { createWorkflowMetrics } from '../../../../src/modules/workflow/runtime/metrics.ts';
import { roleName } from '../../../../src/modules/workflow/runtime/names.ts';
import { createMemoryWorkflowStore } from '../../../../src/modules/workflow/store/index.ts';
import { eventually } from '../../../helpers/async.ts';

const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

it('a step in flight during a graceful stop is not run again by the next holder, which has the run cached at that version', async () => {
  const bus = new MemoryBus({ source: 'handover' });
  const kv = new MemoryKvStore();
  const store = createMemoryWorkflowStore({ bus, log });
  cleanups.push(async () => {
    await bus.close();
    await kv.close();
  });

  const calls = new Map<string, number>();
  const gate = deferred();
  const firstCall = deferred();
  const wf = defineWorkflow<Record<string, never>, 'a' | 'b' | 'done'>('handover')
    .step(
      'a',
      async (run): Promise<'b'> => {
        const n = (calls.get(run.runId) ?? 0) + 1;
        calls.set(run.runId, n);
        if (n === 1) {
          firstCall.resolve();
          await gate.promise;
        }
        return 'b';
      },
      'b',
    )
    .step('b', () => 'done', 'done')
    .build();
  const consumerA = roleName('handover', 'a', 0, 1);

  /** One instance: its own roles, metrics and engine (with its own cache of runs it wrote); `onLeave` hears its status-a consumer leave the bus. */
  function instance(owner: string, onLeave?: () => void) {
    const registry = new Registry();
    const roles: Roles = createRoles({ leases: new KvLeases(kv, owner), kv, owner, registry, log, heartbeatMs: 100, memberTimeoutMs: 1_000 });
    // The stopping instance's bus tells the test when its status-a consumer has left (its event is handed back then).
    const itsBus: EventBus = onLeave
      ? new Proxy(bus, {
          get(target, prop) {
            if (prop !== 'durable') return Reflect.get(target, prop, target);
            return async (...args: Parameters<EventBus['durable']>): Promise<Subscription> => {
              const sub = await target.durable(...args);
              return {
                unsubscribe: async () => {
                  await sub.unsubscribe();
                  if (args[0].name === consumerA) onLeave();
                },
              };
            };
          },
        })
      : bus;
    const engine = new WorkflowEngine({ store, bus: itsBus, roles, kv, log, metrics: createWorkflowMetrics(registry), leaseTtlMs: 1_000, sweepIntervalMs: 60_000, timeoutPollMs: 60_000, retryPausedAfterMs: 300_000 });
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        await engine.stop();
        await roles.close();
      })());
    cleanups.push(stop);
    /** Events the status-a consumer skipped, by reason. */
    const skipped = async (): Promise<Record<string, number>> => {
      const values = (await registry.getSingleMetric('workflow_process_skipped_events_total')?.get())?.values ?? [];
      return Object.fromEntries(values.filter((v) => v.labels.process === consumerA).map((v) => [String(v.labels.reason), v.value]));
    };
    return { engine, roles, stop, skipped };
  }

  // The instance that will stop holds the status-a shard (it is alone).
  const left = deferred();
  const leaving = instance('leaving', left.resolve);
  await leaving.engine.register(wf);
  leaving.engine.start();
  await eventually('the first instance holds the status-a shard', async () => leaving.roles.held().includes(consumerA) || undefined, 10_000);

  // The run is triggered on the other instance, which caches it at version 1; the holder's step for it starts.
  const next = instance('next');
  await next.engine.register(wf);
  const run = await next.engine.trigger('handover', 'order-1');
  await firstCall.promise;
  next.engine.start();

  // Graceful stop with the step in flight: the consumer leaves the bus (handing the event back), then finishes the
  // step (the run moves to b) and only then releases the shard.
  const stopping = leaving.stop();
  await left.promise;
  gate.resolve();
  await stopping;

  // The next holder gets the handed-back event for version 1 and must find the run moved on.
  await eventually('the next holder handled the handed-back event', async () => (Object.keys(await next.skipped()).length > 0 ? true : undefined), 10_000);
  await eventually('the run completed', async () => ((await store.lookup(run.runId))?.runState === 'completed' ? true : undefined), 10_000);
  expect(calls.get(run.runId)).toBe(1);
  expect(await next.skipped()).toEqual({ status_moved_on: 1 });
}, 30_000);
