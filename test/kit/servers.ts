/** Servers for tests: one in-process `startTestServer()` (optionally on a fake clock) and one child-process `spawnServer()`. */
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import type { Clock } from '../../src/kernel/clock/clock.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import type { Module } from '../../src/kernel/module.ts';
import { createWorkflowModule } from '../../src/modules/workflow/index.ts';
import { jsonApi, type JsonApi } from '../helpers/json-api.ts';
import { tempDir } from '../helpers/server-process.ts';

export { startServer as spawnServer, tempDir, type ServerProcess, type StartOptions as SpawnOptions } from '../helpers/server-process.ts';

/** Options of an in-process server. */
export interface TestServerOptions {
  /** Settings of the workflow module (`modules.workflow`). */
  workflow?: Record<string, unknown>;
  /** Environment (DATABASE_URL, REDIS_URL, NATS_URL...): distributed when it names the services, embedded otherwise. */
  env?: Record<string, string>;
  /** Config flags, as `--set` would give them. */
  flags?: Record<string, unknown>;
  /** Modules besides workflow. */
  modules?: Module[];
  /** The clock every module and the kernel read (a FakeClock to step time); the real one by default. */
  clock?: Clock;
}

/** An in-process server and a JSON client for its /api/v1. */
export interface TestServer {
  server: RunningServer;
  url: string;
  api: JsonApi;
  stop(): Promise<void>;
}

/** Starts `capstan serve` in this process on a free port: embedded in a fresh data directory unless `env` names services. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const modules = [createWorkflowModule(), ...(opts.modules ?? [])];
  const flags = { 'server.port': 0, 'log.level': 'silent', 'modules.workflow': opts.workflow ?? {}, ...(opts.env ? { 'auth.enabled': false } : { dataDir: join(tempDir(), 'data') }), ...opts.flags };
  const server = await startServer(loadConfig(modules, { env: opts.env ?? {}, flags }), modules, 'test', { clock: opts.clock });
  return { server, url: server.url!, api: jsonApi(`${server.url}/api/v1`), stop: () => server.stop() };
}
