/**
 * One `capstan serve --role all` of a distributed test or bench: PostgreSQL, Redis and NATS shared under one prefix,
 * auth off, the fake LLM as the only provider, and one module's settings. Several of these make the "two instances"
 * of the module tests (SIGKILL one, talk to the other).
 */
import { fakeLlmConfig } from './cascades-server.ts';
import { NATS_URL, REDIS_URL } from './env.ts';
import { jsonApi, type JsonApi } from './json-api.ts';
import { startServer, type ServerProcess } from './server-process.ts';

export interface Instance {
  proc: ServerProcess;
  /** JSON client of the module's API (`/api/v1/<module>`). */
  api: JsonApi;
  /** The instance id the server reports (sessions' and agents' owner). */
  id: string;
}

export interface InstanceOptions {
  databaseUrl: string;
  prefix: string;
  fakeLlmUrl: string;
  /** The module whose API `api` addresses and whose settings `settings` are (CAPSTAN_MODULES__<MODULE>). */
  module: 'agents' | 'cascades';
  settings: Record<string, unknown>;
  /** Extra environment (e.g. a log level). */
  env?: Record<string, string>;
  /** Every started process is pushed here, for the caller's afterAll to stop. */
  track: ServerProcess[];
  timeoutMs?: number;
}

/** Starts one instance and waits until it answers; pushes it onto `track`. */
export async function startInstance(o: InstanceOptions): Promise<Instance> {
  const env = {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL,
    NATS_URL,
    CAPSTAN_PREFIX: o.prefix,
    CAPSTAN_AUTH__ENABLED: 'false',
    CAPSTAN_LLM: JSON.stringify(fakeLlmConfig(o.fakeLlmUrl)),
    [`CAPSTAN_MODULES__${o.module.toUpperCase()}`]: JSON.stringify(o.settings),
    ...o.env,
  };
  const proc = await startServer({ env, args: ['--role', 'all'], ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  o.track.push(proc);
  const info = (await (await fetch(`${proc.url}/api/v1`)).json()) as { instanceId: string };
  return { proc, api: jsonApi(`${proc.url}/api/v1/${o.module}`), id: info.instanceId };
}
