/** Embedded-mode resources for in-process tests: in-memory PGlite and the memory adapters. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import { createPgliteDatabase } from '../../src/kernel/db/pglite-database.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { KvLeases } from '../../src/kernel/kv/leases.ts';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { createRoles } from '../../src/kernel/roles/roles.ts';
import { createLlmClient } from '../../src/kernel/llm/client/llm-client.ts';
import { llmConfigSchema } from '../../src/kernel/llm/config/schema.ts';
import { createLogger } from '../../src/kernel/log.ts';
import type { KernelMetrics } from '../../src/kernel/metrics.ts';
import { MemoryQueue } from '../../src/kernel/queue/memory-queue.ts';
import type { Resources } from '../../src/kernel/resources.ts';
import { realClock, type Clock } from '../../src/kernel/clock/clock.ts';
import { ALL_MODULE_MIGRATIONS } from './module-migrations.ts';

/** Opens embedded resources wired to `metrics` (and `clock`, real by default); call close() in afterAll. */
export async function embeddedResources(metrics: KernelMetrics, opts: { clock?: Clock; db?: Database } = {}): Promise<Resources & { close(): Promise<void> }> {
  const clock = opts.clock ?? realClock;
  // A database passed in is the caller's, already migrated as it needs (the HTTP bench passes PostgreSQL; closed here).
  const db = opts.db ?? (await createPgliteDatabase({}));
  if (!opts.db) await db.migrate(ALL_MODULE_MIGRATIONS);
  const bus = new MemoryBus({ source: 'test', metrics: metrics.busHooks });
  const queue = new MemoryQueue({ metrics: metrics.queueHooks });
  const kv = new MemoryKvStore();
  metrics.watchQueue(queue);
  const log = createLogger({ level: 'silent' });
  const leases = new KvLeases(kv, 'test-instance', { clock });
  const roles = createRoles({ leases, kv, owner: 'test-instance', registry: metrics.registry, log, clock });
  return {
    mode: 'embedded',
    dataDir: join(tmpdir(), 'capstan-test-data'),
    instanceId: 'test-instance',
    db,
    bus,
    queue,
    kv,
    leases,
    roles,
    metrics: metrics.registry,
    log,
    llm: createLlmClient({ config: llmConfigSchema.parse(undefined), registry: metrics.registry, log }),
    clock,
    async close() {
      await roles.close();
      await bus.close();
      await queue.close();
      await kv.close();
      await db.close();
    },
  };
}
