/**
 * A workflow engine on the in-memory store, bus, KV and roles with every timer on a fake clock, for unit tests of the
 * engine that step time instead of waiting for it. Each engine is stopped by `stopMemoryEngines()` (call it in afterEach).
 */
import { Registry } from 'prom-client';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import type { FakeClock } from '../../src/kernel/clock/index.ts';
import { KvLeases } from '../../src/kernel/kv/leases.ts';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { createRoles } from '../../src/kernel/roles/roles.ts';
import type { AnyWorkflowSpec } from '../../src/modules/workflow/model/builder.ts';
import { WorkflowEngine } from '../../src/modules/workflow/runtime/engine.ts';
import { createWorkflowMetrics } from '../../src/modules/workflow/runtime/metrics.ts';
import { createMemoryWorkflowStore, type MemoryWorkflowStore } from '../../src/modules/workflow/store/index.ts';

const log = createLogger({ level: 'silent' });
const stops: (() => Promise<void>)[] = [];

/** Engine settings a test may change. */
export interface MemoryEngineOptions {
  /** How long an Idempotency-Key is kept (the engine's default when absent). */
  triggerKeyTtlMs?: number;
  /** The timeout poller's longest sleep without news (500 when absent). */
  timeoutPollMs?: number;
  /** Another engine's bus, KV and store: the two are instances of one deployment (they compete for the roles). */
  joins?: MemoryDeployment;
}

/** What the instances of one in-memory deployment share. */
export interface MemoryDeployment {
  bus: MemoryBus;
  kv: MemoryKvStore;
  store: MemoryWorkflowStore;
}

let instances = 0;

/** One started engine with `workflows` registered, its roles taken and first polls made (no time has passed). */
export async function memoryEngine(clock: FakeClock, options: MemoryEngineOptions, ...workflows: AnyWorkflowSpec[]): Promise<{ engine: WorkflowEngine; store: MemoryWorkflowStore; deployment: MemoryDeployment }> {
  const registry = new Registry();
  const joined = options.joins;
  const bus = joined?.bus ?? new MemoryBus({ source: 'unit' });
  const kv = joined?.kv ?? new MemoryKvStore();
  const owner = `unit-${++instances}`;
  const roles = createRoles({ leases: new KvLeases(kv, owner, { clock }), kv, owner, registry, log, clock });
  const store = joined?.store ?? createMemoryWorkflowStore({ clock, bus, log });
  const engine = new WorkflowEngine({
    store,
    bus,
    roles,
    kv,
    log,
    metrics: createWorkflowMetrics(registry),
    clock,
    leaseTtlMs: 5_000,
    sweepIntervalMs: 10_000,
    timeoutPollMs: options.timeoutPollMs ?? 500,
    retryPausedAfterMs: 300_000,
    triggerKeyTtlMs: options.triggerKeyTtlMs,
  });
  for (const w of workflows) await engine.register(w);
  engine.start();
  stops.push(async () => {
    await engine.stop();
    await roles.close();
    // The first instance of a deployment owns what it shares; it is stopped last (stops run newest first).
    if (!joined) {
      await bus.close();
      await kv.close();
    }
  });
  await clock.settle(5);
  return { engine, store, deployment: { bus, kv, store } };
}

/** Stops every engine `memoryEngine` started, newest first. */
export async function stopMemoryEngines(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop();
}
