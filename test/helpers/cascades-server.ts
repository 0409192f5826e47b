/** An in-process `capstan serve` with the cascades module on, its LLM provider pointed at a fake LLM server. */
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { createCascadesModule } from '../../src/modules/cascades/index.ts';
import { eventually } from './async.ts';
import { jsonApi, type JsonApi } from './json-api.ts';
import { tempDir } from './server-process.ts';

/** Fast heartbeats and sweeps for tests (leases of seconds, not a minute). */
export const FAST_CASCADES = { enabled: true, leaseMs: 2_000, heartbeatMs: 300, sweepIntervalMs: 200, roleTtlMs: 1_000, maxRecoveries: 3 };

/** The `llm` config for a fake server at `baseUrl`: provider `fake`, priced, quick retries. */
export function fakeLlmConfig(baseUrl: string): Record<string, unknown> {
  return { providers: { fake: { baseUrl, retryBaseMs: 5, retryMaxMs: 20, maxRetries: 2, prices: { '*': { input: 1, output: 2 } } } } };
}

/**
 * Starts an embedded server (fresh data dir) with cascades; `api` addresses /api/v1/cascades. Besides `fake`, provider
 * `strict` is the same fake server with a 400 ms attempt timeout and one retry, for timeout cases.
 */
export async function startCascadesServer(baseUrl: string, cascades: Record<string, unknown> = {}): Promise<{ server: RunningServer; api: JsonApi }> {
  const modules = [createCascadesModule()];
  const llm = fakeLlmConfig(baseUrl) as { providers: Record<string, unknown> };
  llm.providers.strict = { baseUrl, timeoutMs: 400, maxRetries: 1, retryBaseMs: 5, retryMaxMs: 20 };
  const flags = { 'server.port': 0, 'log.level': process.env.CASCADES_TEST_LOG ?? 'silent', dataDir: join(tempDir(), 'data'), llm, 'modules.cascades': { ...FAST_CASCADES, ...cascades } };
  const server = await startServer(loadConfig(modules, { env: {}, flags }), modules, 'test');
  return { server, api: jsonApi(`${server.url}/api/v1/cascades`) };
}

/** Waits until the session reaches `status` (any of them) and returns it. */
export async function sessionIn(api: JsonApi, id: string, statuses: string[], timeoutMs = 20_000): Promise<Record<string, any>> {
  return eventually(
    `session ${id} in ${statuses.join('|')}`,
    async () => {
      const r = await api('GET', `/sessions/${id}`);
      return statuses.includes(r.body?.status) ? r.body : undefined;
    },
    timeoutMs,
  );
}

