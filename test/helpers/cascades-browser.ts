/**
 * Set-up shared by the cascades browser tests: Debian's Chromium (required in CI), a loopback site the test serves,
 * and an in-process cascades worker with a BrowserPool over real PostgreSQL and the fake LLM process.
 */
import { existsSync } from 'node:fs';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import { realClock } from '../../src/kernel/clock/clock.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import type { Roles } from '../../src/kernel/index.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { MemoryQueue } from '../../src/kernel/queue/memory-queue.ts';
import { cascadesConfigSchema } from '../../src/modules/cascades/config.ts';
import { BrowserPool } from '../../src/modules/cascades/runtime/browser.ts';
import { ChildRunner } from '../../src/modules/cascades/runtime/children.ts';
import { NO_METRICS } from '../../src/modules/cascades/runtime/metrics.ts';
import { CascadeWorker } from '../../src/modules/cascades/runtime/worker.ts';
import { ArtifactStore, CascadeStore, ChildSessionStore, SessionDataStore } from '../../src/modules/cascades/store/index.ts';
import { fakeProvider, testClient, type FakeLlmProcess } from '../contract/llm-fake.ts';
import { PG_URL, uniqueName } from './env.ts';
import { ALL_MODULE_MIGRATIONS } from './module-migrations.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Whether this machine has Chromium; CI must (scripts/ensure-services.sh installs Debian's chromium). */
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is required in CI (scripts/ensure-services.sh installs Debian's chromium)`);

/** A model reply calling the browser tool once. */
export const browse = (args: Record<string, unknown>) => ({ toolCalls: [{ name: 'browser', arguments: args }] });

/** A site on loopback; `idleTimeout: 0` so a request the test holds open is not closed by Bun after 10 s. */
export function serveSite(fetch: (req: Request) => Response | Promise<Response>): ReturnType<typeof Bun.serve> {
  return Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 0, fetch });
}

/** An in-process worker with a browser, and what it is built on. */
export interface BrowserWorker {
  db: Database;
  store: CascadeStore;
  artifacts: ArtifactStore;
  pool: BrowserPool;
  worker: CascadeWorker;
  queue: MemoryQueue;
  bus: MemoryBus;
  /** Closes the browser, queue and bus and drops the test's schema. */
  close(): Promise<void>;
}

/**
 * Starts a cascades worker (not taking jobs: tests call runSession) in a fresh schema of the test database, its LLM
 * being the fake process and its browser Chromium with these limits. `config` goes into modules.cascades.
 */
export async function startBrowserWorker(fake: FakeLlmProcess, o: { schemaPrefix: string; actionTimeoutMs: number; maxPages?: number; config?: Record<string, unknown> }): Promise<BrowserWorker> {
  const schema = uniqueName(o.schemaPrefix).toLowerCase();
  const queue = new MemoryQueue();
  const bus = new MemoryBus({ source: 'test' });
  const db = await createPostgresDatabase({ url: PG_URL, schema });
  await db.migrate(ALL_MODULE_MIGRATIONS);
  const store = new CascadeStore(db);
  const artifacts = new ArtifactStore(db);
  const log = createLogger({ level: 'silent' });
  const pool = new BrowserPool({ executablePath: CHROMIUM, maxPages: o.maxPages ?? 2, actionTimeoutMs: o.actionTimeoutMs, saveArtifact: (s, n, t, b) => artifacts.put(s, n, t, b) }, log);
  const { llm } = testClient({ providers: { fake: fakeProvider(fake) } });
  const config = cascadesConfigSchema.parse(o.config ?? {});
  const children = new ChildRunner(store, new ChildSessionStore(db), queue, log);
  const worker = new CascadeWorker({ store, queue, bus, llm, roles: undefined as unknown as Roles, log, owner: 'w1', config, metrics: NO_METRICS, clock: realClock, browsers: pool, data: new SessionDataStore(db, 10_000), children });
  return {
    db,
    store,
    artifacts,
    pool,
    worker,
    queue,
    bus,
    async close() {
      await pool.close();
      await queue.close();
      await bus.close();
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}
