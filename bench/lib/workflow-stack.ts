/**
 * One Capstan instance for the workflow benchmark, assembled the way boot/resources.ts and boot/serve.ts do it:
 * the workflow module (consumers and pollers started) plus the outbox relay, on PostgreSQL + NATS (distributed)
 * or PGlite + memory adapters (embedded), with the probe's wrappers around the database and the bus.
 */
import { resolve } from 'node:path';
import { realClock } from '../../src/kernel/clock/clock.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import postgres from 'postgres';
import { ActionRegistry } from '../../src/kernel/actions.ts';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import { NatsBus } from '../../src/kernel/bus/nats-bus.ts';
import type { EventBus } from '../../src/kernel/bus/port.ts';
import { buildConfigSchema } from '../../src/kernel/config/schema.ts';
import { createPgliteDatabase } from '../../src/kernel/db/pglite-database.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { KvLeases } from '../../src/kernel/kv/leases.ts';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { createLlmClient } from '../../src/kernel/llm/client/llm-client.ts';
import { llmConfigSchema } from '../../src/kernel/llm/config/schema.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { createMetrics } from '../../src/kernel/metrics.ts';
import type { Module, ModuleContext } from '../../src/kernel/module.ts';
import { startOutboxRelay } from '../../src/kernel/outbox.ts';
import { MemoryQueue } from '../../src/kernel/queue/memory-queue.ts';
import { createRoles } from '../../src/kernel/roles/roles.ts';
import type { Roles } from '../../src/kernel/roles/types.ts';
import type { Resources } from '../../src/kernel/resources.ts';
import { sleep } from '../../src/kernel/time.ts';
import { createWorkflowModule, type AnyWorkflowSpec } from '../../src/modules/workflow/index.ts';
import { NATS_URL, uniqueName } from '../../test/helpers/env.ts';
import { TransitionProbe } from './workflow-probe.ts';
import { ALL_MODULE_MIGRATIONS } from '../../test/helpers/module-migrations.ts';

/** A running instance: trigger runs, watch the raw bus, read the probe, close everything. */
export interface WorkflowStack {
  mode: 'distributed' | 'embedded';
  /** The bus without the probe's wrapper, for the benchmark's own subscription. */
  bus: EventBus;
  probe: TransitionProbe;
  /** Schema (distributed) holding the tables, for the baseline's table. */
  schema?: string;
  trigger(workflow: string, foreignId: string, object: unknown): Promise<string>;
  close(): Promise<void>;
}

/** Where the distributed instance's state goes. */
export interface DistributedTarget {
  /** PostgreSQL URL (database `test`, or a proxy in front of it). */
  pgUrl: string;
  schema: string;
}

const log = createLogger({ level: 'warn', name: 'bench-workflow' });

/** The kernel's defaults for the two settings the relay and module take from the configuration. */
function defaults(module: Module) {
  const cfg = buildConfigSchema([module]).parse({ modules: { workflow: {} } });
  return { leaseTtlMs: cfg.leases.defaultTtlMs, workflow: cfg.modules.workflow };
}

/** One instance as serve.ts starts it: the workflow module (consumers and pollers) and the outbox relay, on the given adapters. */
export interface WorkflowInstance {
  instanceId: string;
  metrics: ReturnType<typeof createMetrics>;
  roles: Roles;
  trigger(workflow: string, foreignId: string, object: unknown): Promise<string>;
  stop(): Promise<void>;
}

/** Assembles and starts one instance over `adapters` (already wrapped, if the caller probes them). */
export async function startWorkflowInstance(mode: WorkflowStack['mode'], adapters: { db: Database; bus: EventBus; kv: Resources['kv'] }, instanceId: string, workflows: AnyWorkflowSpec[]): Promise<WorkflowInstance> {
  const { db, bus, kv } = adapters;
  const metrics = createMetrics();
  const leases = new KvLeases(kv, instanceId);
  const roles = createRoles({ leases, kv, owner: instanceId, registry: metrics.registry, log });
  const queue = new MemoryQueue({ metrics: metrics.queueHooks });
  const resources: Resources = { mode, dataDir: resolve('.capstan/data'), instanceId, db, bus, queue, kv, leases, roles, metrics: metrics.registry, log, llm: createLlmClient({ config: llmConfigSchema.parse(undefined) }), clock: realClock };
  const module = createWorkflowModule({ workflows });
  const conf = defaults(module);
  const actions = new ActionRegistry();
  const ctx: ModuleContext<{ enabled: boolean }> = { config: conf.workflow as { enabled: boolean }, resources, actions: actions.forModule(module.name), log, role: 'all' };
  const state = module.init?.(ctx);
  module.actions?.(ctx, state);
  await module.start?.(ctx, state);
  // As serve.ts: after the modules, with the configured lease TTL and the relay's default batch and idle period.
  const relay = startOutboxRelay({ db, bus, roles, log, registry: metrics.registry, source: instanceId, leaseTtlMs: conf.leaseTtlMs });
  return {
    instanceId,
    metrics,
    roles,
    trigger: async (workflow, foreignId, object) => (await actions.call<{ runId: string }>('workflow.trigger', { workflow, foreignId, object })).runId,
    async stop() {
      await module.stop?.(state);
      await relay.stop();
      await roles.close();
      await queue.close();
    },
  };
}

async function startInstance(mode: WorkflowStack['mode'], raw: { db: Database; bus: EventBus; kv: Resources['kv'] }, workflows: AnyWorkflowSpec[], consumers: number) {
  const probe = new TransitionProbe();
  const instance = await startWorkflowInstance(mode, { db: probe.database(raw.db), bus: probe.bus(raw.bus), kv: raw.kv }, `bench-${mode}`, workflows);
  // Consumers start 'new': an event published before a consumer's durable exists would wait for the sweep.
  for (let waited = 0; probe.durables < consumers; waited += 50) {
    if (waited > 30_000) throw new Error(`only ${probe.durables} of ${consumers} step consumers started`);
    await sleep(50);
  }
  return { probe, trigger: instance.trigger, stop: () => instance.stop() };
}

/** PostgreSQL (a fresh schema) + NatsBus and NatsKvStore on one connection with a unique prefix, as openResources does. */
export async function distributedStack(target: DistributedTarget, workflows: AnyWorkflowSpec[], consumers: number): Promise<WorkflowStack> {
  const db = await createPostgresDatabase({ url: target.pgUrl, schema: target.schema, log });
  await db.migrate(ALL_MODULE_MIGRATIONS);
  const prefix = uniqueName('benchwf');
  let nc: NatsConnection | undefined;
  let bus: NatsBus | undefined;
  let kv: NatsKvStore | undefined;
  let instance: Awaited<ReturnType<typeof startInstance>> | undefined;
  const close = async () => {
    await instance?.stop();
    await bus?.deleteStream().catch(() => {});
    await kv?.destroyAll().catch(() => {});
    await bus?.close();
    await kv?.close();
    await nc?.drain().catch(() => nc?.close());
    await db.close();
  };
  try {
    nc = await connect({ servers: NATS_URL, name: prefix });
    bus = await NatsBus.connect({ connection: nc, prefix, source: 'bench' });
    kv = new NatsKvStore({ connection: nc, prefix });
    instance = await startInstance('distributed', { db, bus, kv }, workflows, consumers);
  } catch (err) {
    await close();
    throw err;
  }
  const started = instance;
  return { mode: 'distributed', bus, probe: started.probe, schema: target.schema, trigger: started.trigger, close };
}

/** In-memory PGlite + MemoryBus + MemoryKvStore, as embedded mode opens them (without a data directory). */
export async function embeddedStack(workflows: AnyWorkflowSpec[], consumers: number): Promise<WorkflowStack> {
  const db = await createPgliteDatabase({});
  await db.migrate(ALL_MODULE_MIGRATIONS);
  const bus = new MemoryBus({ source: 'bench' });
  const kv = new MemoryKvStore();
  const instance = await startInstance('embedded', { db, bus, kv }, workflows, consumers);
  return {
    mode: 'embedded',
    bus,
    probe: instance.probe,
    trigger: instance.trigger,
    async close() {
      await instance.stop();
      await bus.close();
      await kv.close();
      await db.close();
    },
  };
}

/** Drops a benchmark schema and everything in it. */
export async function dropSchema(pgUrl: string, schema: string): Promise<void> {
  const sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
