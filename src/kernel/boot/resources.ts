/** Opens the shared resources for the configured mode: PGlite + memory adapters, or PostgreSQL + BullMQ + NATS. */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect as natsConnect } from '@nats-io/transport-node';
import { NatsBus } from '../bus/nats-bus.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { createPgliteDatabase } from '../db/pglite-database.ts';
import { createPostgresDatabase } from '../db/postgres-database.ts';
import { pgliteAssets } from '../db/pglite-assets.ts';
import type { KernelConfig } from '../config/schema.ts';
import { modeOf } from '../config/load.ts';
import { newId } from '../ids.ts';
import { KvLeases } from '../kv/leases.ts';
import { createRoles } from '../roles/roles.ts';
import { MemoryKvStore } from '../kv/memory-kv.ts';
import { NatsKvStore } from '../kv/nats-kv.ts';
import { createLlmClient } from '../llm/client/llm-client.ts';
import type { Logger } from '../log.ts';
import type { KernelMetrics } from '../metrics.ts';
import { BullmqQueue } from '../queue/bullmq-queue.ts';
import { MemoryQueue } from '../queue/memory-queue.ts';
import type { Resources } from '../resources.ts';
import type { KvStore } from '../kv/port.ts';
import type { Roles } from '../roles/types.ts';
import { connectWithRetry } from './connect.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { tracingOn } from '../tracing/spans.ts';
import { TracedBus } from '../tracing/traced-bus.ts';
import { tracedDatabase } from '../tracing/traced-database.ts';
import { TracedQueue } from '../tracing/traced-queue.ts';
import { realClock, type Clock } from '../clock/clock.ts';

/** Resources plus the one call that closes them all. */
export interface OpenResources extends Resources {
  close(): Promise<void>;
}

/** Opens every dependency, retrying each for `startupTimeoutMs`, and closes what was opened if a later one fails. */
export async function openResources(cfg: KernelConfig, log: Logger, metrics: KernelMetrics, opts: { clock?: Clock } = {}): Promise<OpenResources> {
  const clock = opts.clock ?? realClock;
  const mode = modeOf(cfg);
  const instanceId = `${mode === 'embedded' ? 'emb' : 'ins'}-${newId().slice(-12)}`;
  const dataDir = resolve(cfg.dataDir);
  const opened: { close(): Promise<void> }[] = [];
  const retryOpts = { timeoutMs: cfg.startupTimeoutMs, log };
  // The same client in both modes: it holds no connection, only limits and breakers per process.
  const llm = createLlmClient({ config: cfg.llm, registry: metrics.registry, log: log.child({ component: 'llm' }) });
  try {
    if (mode === 'embedded') {
      mkdirSync(dataDir, { recursive: true });
      const unlock = lockDataDir(dataDir);
      // Released last (opened closes in reverse order), after the database has written its files.
      opened.push({ close: async () => unlock() });
      const db = await createPgliteDatabase({ dataDir: join(dataDir, 'pglite'), wasm: await pgliteAssets() });
      opened.push(db);
      const bus = new MemoryBus({ source: instanceId, metrics: metrics.busHooks });
      const queue = new MemoryQueue({ ...cfg.queue, metrics: metrics.queueHooks });
      const kv = new MemoryKvStore();
      opened.push(bus, queue, kv);
      const leases = new KvLeases(kv, instanceId, { clock });
      const roles = openRoles(kv, leases);
      return finish({ mode, dataDir, instanceId, db, bus, queue, kv, leases, roles, metrics: metrics.registry, log, llm, clock });
    }
    const dbUrl = cfg.database.url!;
    const db = await connectWithRetry('PostgreSQL', dbUrl, () => createPostgresDatabase({ url: dbUrl, readUrl: cfg.database.readUrl, log }), retryOpts);
    opened.push(db);
    const redisUrl = cfg.redis.url!;
    const queue = await connectWithRetry('Redis', redisUrl, async () => {
      const q = new BullmqQueue({ url: redisUrl, sentinel: cfg.redis.sentinel, prefix: cfg.prefix, ...cfg.queue, metrics: metrics.queueHooks });
      try {
        await q.ping();
      } catch (err) {
        await q.close().catch(() => {});
        throw err;
      }
      return q;
    }, retryOpts);
    opened.push(queue);
    const natsUrl = cfg.nats.url!;
    const nc = await connectWithRetry('NATS', natsUrl, () => natsConnect({ servers: natsUrl.split(',').map((u) => u.trim()), name: instanceId, maxReconnectAttempts: -1, reconnectTimeWait: 500 }), retryOpts);
    opened.push({ close: () => nc.drain().catch(() => nc.close()) });
    const bus = await NatsBus.connect({ connection: nc, url: natsUrl, prefix: cfg.prefix, source: instanceId, metrics: metrics.busHooks });
    opened.push(bus);
    const kv = new NatsKvStore({ connection: nc, prefix: cfg.prefix });
    opened.push(kv);
    const leases = new KvLeases(kv, instanceId, { clock });
    const roles = openRoles(kv, leases);
    return finish({ mode, dataDir, instanceId, db, bus, queue, kv, leases, roles, metrics: metrics.registry, log, llm, clock });
  } catch (err) {
    for (const r of opened.reverse()) await r.close().catch(() => {});
    throw err;
  }

  /** Roles close before the KV they heartbeat into: their work stops, their leases are released, they leave. */
  function openRoles(kv: KvStore, leases: KvLeases): Roles {
    const roles = createRoles({ leases, kv, owner: instanceId, registry: metrics.registry, log, clock, heartbeatMs: cfg.roles.heartbeatMs, memberTimeoutMs: cfg.roles.memberTimeoutMs, meta: { mode, role: cfg.server.role } });
    opened.push(roles);
    return roles;
  }

  function finish(r: Resources): OpenResources {
    metrics.watchQueue(r.queue);
    // With tracing on, every user of the database, bus and queue gets spans; off, the adapters are used bare.
    const traced = tracingOn() ? { db: tracedDatabase(r.db), bus: new TracedBus(r.bus), queue: new TracedQueue(r.queue) } : {};
    return {
      ...r,
      ...traced,
      async close() {
        // Close in reverse order of opening: consumers of a connection before the connection.
        for (const o of [...opened].reverse()) await o.close().catch((err) => log.warn({ err }, 'error while closing'));
      },
    };
  }
}
