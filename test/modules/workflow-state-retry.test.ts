/**
 * `retry: {attempts, backoff}` on a state-machine step (issue 7: parsed, then ignored, so four attempts came within
 * a second and the run paused): attempts are spaced by the backoff, doubled after each failure as for DAG steps,
 * never sooner, and the run pauses only once every attempt has failed. Embedded mode, through the HTTP API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/kernel/boot/serve.ts';
import type { JsonApi } from '../helpers/json-api.ts';
import { startWorkflowServer } from '../helpers/workflow-server.ts';
import { eventually, sleep } from '../kit/index.ts';

/** When each attempt reached the remote side, per run; every attempt fails. */
const attempts = new Map<string, number[]>();
const target = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    const { runId } = (await req.json()) as { runId: string };
    attempts.set(runId, [...(attempts.get(runId) ?? []), Date.now()]);
    return new Response('down for maintenance', { status: 503 });
  },
});

const definition = (name: string, backoff: string) => `
name: ${name}
start: ship
states:
  ship: { http: { url: "http://127.0.0.1:${target.port}/ship", to: [shipped] }, retry: { attempts: 4, backoff: ${backoff} } }
  shipped: {}
`;

let server: RunningServer;
let api: JsonApi;
beforeAll(async () => {
  // The sweep comes by every 100 ms: it too must respect the backoff.
  ({ server, api } = await startWorkflowServer({ workflow: { sweepIntervalMs: 100, roleTtlMs: 2000 } }));
}, 180_000);
afterAll(async () => {
  await server?.stop();
  target.stop(true);
});

const run = async (runId: string) => (await api('GET', `/workflow/runs/${runId}`)).body as { runState: string; reason: string | null };

describe('retry on a state-machine step', () => {
  it('spaces the attempts by the backoff, doubling, and pauses the run only after the last one', async () => {
    expect((await api('POST', '/workflow/definitions', definition('retry-short', '150ms'), 'application/yaml')).status).toBe(201);
    const { runId } = (await api('POST', '/workflow/workflows/retry-short/runs', { foreignId: 'o-1' })).body as { runId: string };
    const paused = await eventually(async () => {
      const r = await run(runId);
      return r.runState === 'paused' ? r : undefined;
    }, { timeout: 10_000, what: 'the run paused after its last attempt' });
    expect(paused.reason).toContain('4 failed attempts');
    const at = attempts.get(runId)!;
    expect(at).toHaveLength(4);
    // Attempt k+1 may not start before 150 ms * 2^(k-1) after attempt k failed (which was after it started).
    for (let k = 1; k < at.length; k++) expect(at[k]! - at[k - 1]!, `gap before attempt ${k + 1}`).toBeGreaterThanOrEqual(150 * 2 ** (k - 1));
    // Paused means no further attempt: a pause, not a poll.
    await sleep(500);
    expect(attempts.get(runId)).toHaveLength(4);
  });

  it('with backoff 10s the run is still running, after one attempt, three seconds later (issue 7)', async () => {
    expect((await api('POST', '/workflow/definitions', definition('retry-long', '10s'), 'application/yaml')).status).toBe(201);
    const { runId } = (await api('POST', '/workflow/workflows/retry-long/runs', { foreignId: 'o-2' })).body as { runId: string };
    await eventually(() => attempts.get(runId), { timeout: 5_000, what: 'the first attempt' });
    expect(attempts.get(runId)).toHaveLength(1);
    // No second attempt may come within three seconds: a pause, not a poll.
    await sleep(3_000);
    expect(attempts.get(runId)).toHaveLength(1);
    expect((await run(runId)).runState).toBe('running');
    expect((await api('POST', `/workflow/runs/${runId}/cancel`, {})).status).toBe(200);
  });
});
