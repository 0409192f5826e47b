/**
 * Benchmarks that put hundreds of LLM calls in flight from one process need Bun's fetch cap raised, and Bun reads it
 * only at process start (src/kernel/calls/fetch-limit.ts): so a bench started without it runs itself again with it.
 */
import { fetchLimit } from '../../src/kernel/calls/fetch-limit.ts';

/** The cap the benchmarks run with, as the container image sets it. */
export const BENCH_FETCH_LIMIT = 4096;

/** Re-runs this process with BUN_CONFIG_MAX_HTTP_REQUESTS set when it is lower than the bench needs; returns when it is set. */
export async function ensureFetchLimit(): Promise<void> {
  if (fetchLimit() >= BENCH_FETCH_LIMIT) return;
  const child = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(BENCH_FETCH_LIMIT) },
    stdio: ['inherit', 'inherit', 'inherit'],
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  process.exit(await child.exited);
}
