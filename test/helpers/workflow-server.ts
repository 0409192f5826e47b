/** The workflow tests' server: the kit's in-process server, under the name those tests use. */
import type { RunningServer } from '../../src/kernel/boot/serve.ts';
import type { Module } from '../../src/kernel/module.ts';
import { startTestServer } from '../kit/servers.ts';
import type { JsonApi } from './json-api.ts';

/** Starts the kit's in-process server (workflow module plus `modules`); see test/kit/servers.ts. */
export async function startWorkflowServer(opts: { workflow?: Record<string, unknown>; env?: Record<string, string>; flags?: Record<string, unknown>; modules?: Module[] } = {}): Promise<{ server: RunningServer; api: JsonApi }> {
  const { server, api } = await startTestServer(opts);
  return { server, api };
}
