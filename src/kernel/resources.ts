/** The one typed resources object every module receives: no hidden singletons. */
import type { Registry } from 'prom-client';
import type { EventBus } from './bus/port.ts';
import type { Database } from './db/port.ts';
import type { KvStore, Leases } from './kv/port.ts';
import type { LlmClient } from './llm/model/request.ts';
import type { Clock } from './clock/clock.ts';
import type { Logger } from './log.ts';
import type { Roles } from './roles/types.ts';
import type { JobQueue } from './queue/port.ts';

/** Shared infrastructure handed to modules. */
export interface Resources {
  /** `embedded` (PGlite + memory adapters) or `distributed` (PostgreSQL, Redis, NATS). */
  mode: 'embedded' | 'distributed';
  /**
   * The absolute path of `dataDir` (--data-dir): embedded mode keeps its database there; modules keep their files
   * under `<dataDir>/<module>` unless configured otherwise. In distributed mode it is the folder to share.
   */
  dataDir: string;
  /** Unique per process; the `source` of published events and the owner of leases. */
  instanceId: string;
  db: Database;
  bus: EventBus;
  queue: JobQueue;
  kv: KvStore;
  leases: Leases;
  /** Work held by one instance at a time: plain roles and sharded role sets spread over live instances. */
  roles: Roles;
  metrics: Registry;
  log: Logger;
  /** The LLM provider port over `llm.providers` (chat, stream, tools, structured output, retries, fallbacks, costs). */
  llm: LlmClient;
  /** Time as a port: modules read now, sleep and set timers through it, so tests can step a fake clock. */
  clock: Clock;
}
