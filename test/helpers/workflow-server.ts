/** An in-process `capstan serve` with the workflow module, and a JSON client for its API, for the workflow's tests. */
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import type { Module } from '../../src/kernel/module.ts';
import { createWorkflowModule } from '../../src/modules/workflow/index.ts';
import { jsonApi, type JsonApi } from './json-api.ts';
import { tempDir } from './server-process.ts';

/**
 * Starts a server on a free port with the workflow module (settings `workflow`) and `modules`: embedded in a fresh
 * data directory, or distributed when `env` names the services. `api` addresses /api/v1.
 */
export async function startWorkflowServer(opts: { workflow?: Record<string, unknown>; env?: Record<string, string>; flags?: Record<string, unknown>; modules?: Module[] } = {}): Promise<{ server: RunningServer; api: JsonApi }> {
  const modules = [createWorkflowModule() as Module, ...(opts.modules ?? [])];
  const flags = { 'server.port': 0, 'log.level': 'silent', 'modules.workflow': opts.workflow ?? {}, ...(opts.env ? { 'auth.enabled': false } : { dataDir: join(tempDir(), 'data') }), ...opts.flags };
  const server = await startServer(loadConfig(modules, { env: opts.env ?? {}, flags }), modules, 'test');
  return { server, api: jsonApi(`${server.url}/api/v1`) };
}
