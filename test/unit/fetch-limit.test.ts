/** Bun's cap on fetch requests in flight, as fetchLimit() reads it, against what a child process really does. */
import { describe, expect, it } from 'vitest';
import { BUN_DEFAULT_FETCH_LIMIT, fetchLimit, fetchLimitWarning } from '../../src/kernel/calls/fetch-limit.ts';

/** Peak number of requests a slow local server sees at once when a child process fetches `n` of them together. */
async function peakInFlight(n: number, env: Record<string, string | undefined>): Promise<number> {
  let inFlight = 0;
  let peak = 0;
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch() {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await Bun.sleep(400);
      inFlight -= 1;
      return new Response('ok');
    },
  });
  try {
    const code = `await Promise.all(Array.from({ length: ${n} }, () => fetch('http://127.0.0.1:${server.port}/').then((r) => r.text())));`;
    const child = Bun.spawn([process.execPath, '-e', code], { env: env as Record<string, string>, stdout: 'ignore', stderr: 'inherit' });
    expect(await child.exited).toBe(0);
    return peak;
  } finally {
    server.stop(true);
  }
}

describe('fetch limit', () => {
  it('reads BUN_CONFIG_MAX_HTTP_REQUESTS, 256 when unset or invalid', () => {
    expect(fetchLimit({})).toBe(BUN_DEFAULT_FETCH_LIMIT);
    expect(fetchLimit({ BUN_CONFIG_MAX_HTTP_REQUESTS: 'lots' })).toBe(256);
    expect(fetchLimit({ BUN_CONFIG_MAX_HTTP_REQUESTS: '2048' })).toBe(2048);
  });

  it('warns when the providers may run more calls at once than fetch lets through', () => {
    expect(fetchLimitWarning({ a: 32, b: 64 }, {})).toBeUndefined();
    const w = fetchLimitWarning({ a: 200, b: 100 }, {});
    expect(w).toContain('300 calls at once');
    expect(w).toContain('BUN_CONFIG_MAX_HTTP_REQUESTS=1024');
    expect(fetchLimitWarning({ a: 200, b: 100 }, { BUN_CONFIG_MAX_HTTP_REQUESTS: '4096' })).toBeUndefined();
  });

  it("matches what Bun's fetch really does in a fresh process", async () => {
    const { BUN_CONFIG_MAX_HTTP_REQUESTS: _, ...without } = process.env;
    expect(await peakInFlight(400, without)).toBe(fetchLimit(without));
    expect(await peakInFlight(400, { ...without, BUN_CONFIG_MAX_HTTP_REQUESTS: '1000' })).toBe(400);
  });
});
