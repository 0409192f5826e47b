/**
 * `capstan health`: a probe for container health checks, which have no curl. It asks the server this
 * configuration describes (same CAPSTAN_* variables and file as `serve`) for /healthz, or /readyz with --ready.
 */
import type { KernelConfig } from '../config/schema.ts';
import { UsageError } from './args.ts';

/** What the probe asks and how long it waits. */
export interface HealthProbe {
  url: string;
  timeoutMs: number;
}

/** The loopback address that reaches a server bound to `host` (a wildcard bind is reached on loopback). */
function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The probe's URL: --server when given, else the server the configuration describes. */
export function healthProbe(cfg: Pick<KernelConfig, 'server'>, opts: { server?: string; ready?: boolean; timeout?: string }): HealthProbe {
  const timeoutMs = opts.timeout === undefined ? 3_000 : Number(opts.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout must be a positive number of milliseconds, got '${opts.timeout}'`);
  const base = opts.server ?? `http://${probeHost(cfg.server.host)}:${cfg.server.port}`;
  let url: URL;
  try {
    url = new URL(opts.ready ? '/readyz' : '/healthz', base);
  } catch {
    throw new UsageError(`--server must be a URL, got '${base}'`);
  }
  return { url: url.href, timeoutMs };
}

/** Runs the probe: prints one line and returns 0 when the server answers 200, 1 otherwise. */
export async function runHealthProbe(probe: HealthProbe): Promise<number> {
  try {
    const res = await fetch(probe.url, { signal: AbortSignal.timeout(probe.timeoutMs) });
    const body = await res.text();
    if (res.status === 200) {
      console.log(`ok: ${probe.url}`);
      return 0;
    }
    console.error(`not ok: ${probe.url} answered ${res.status} ${body.slice(0, 500)}`);
    return 1;
  } catch (err) {
    console.error(`not ok: ${probe.url} did not answer: ${(err as Error).message}`);
    return 1;
  }
}
