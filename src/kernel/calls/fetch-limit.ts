/**
 * Bun's fetch keeps at most BUN_CONFIG_MAX_HTTP_REQUESTS requests in flight per process (256 when unset) and queues
 * the rest without a word. The variable is read once when the process starts: setting it from JavaScript changes
 * nothing, so it belongs in the environment of the server (the container image sets it). With 1,000 cascade
 * sessions in one worker, a quarter of their LLM calls waited in this hidden queue (bench/RESULTS.md, 3 Dec 2026).
 */

/** Bun's default when the variable is unset or not a positive integer. */
export const BUN_DEFAULT_FETCH_LIMIT = 256;

/** How many fetch requests this process can have in flight at once. */
export function fetchLimit(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.BUN_CONFIG_MAX_HTTP_REQUESTS);
  return Number.isInteger(n) && n > 0 ? n : BUN_DEFAULT_FETCH_LIMIT;
}

/**
 * A start-up warning when the configured LLM providers may run more calls at once than fetch lets through (their
 * `maxConcurrency` summed), or undefined when they fit.
 */
export function fetchLimitWarning(providerConcurrency: Record<string, number>, env: Record<string, string | undefined> = process.env): string | undefined {
  const wanted = Object.values(providerConcurrency).reduce((a, b) => a + b, 0);
  const limit = fetchLimit(env);
  if (wanted <= limit) return undefined;
  return `the LLM providers allow ${wanted} calls at once (maxConcurrency summed) but this process's fetch lets only ${limit} through; start the server with BUN_CONFIG_MAX_HTTP_REQUESTS=${Math.min(65_336, Math.max(wanted, 1024))} (read at process start only)`;
}
