/**
 * Names at the schema's limits still run: a workflow and a status of 41 and 44 characters (issue 7's example) made a
 * consumer durable name over the bus's limit, so the definition was accepted and its runs never moved. Runs to
 * completion on both bus adapters: embedded (MemoryBus) and distributed (NATS JetStream, PostgreSQL, Redis).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/async.ts';
import { removeDeploymentData } from '../helpers/deployment-cleanup.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { startWorkflowServer } from '../helpers/workflow-server.ts';

const target = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ status: 'done' }) });
afterAll(() => target.stop(true));

const WORKFLOW = `w${'x'.repeat(40)}`;
const STATE = `s${'y'.repeat(43)}`;
/** The longest names the schema allows, with a connector and a schedule that also derive names from them. */
const LONGEST = { workflow: 'l'.repeat(64), state: 'm'.repeat(64), connector: 'c'.repeat(64) };

const definitions = (subjectPrefix: string) => [
  `
name: ${WORKFLOW}
start: ${STATE}
states:
  ${STATE}: { http: { url: "http://127.0.0.1:${target.port}/step", to: [done] }, parallel: 64 }
  done: {}
`,
  `
name: ${LONGEST.workflow}
start: ${LONGEST.state}
states:
  ${LONGEST.state}: { http: { url: "http://127.0.0.1:${target.port}/step", to: [done] } }
  done: {}
connectors:
  - { name: ${LONGEST.connector}, subject: ${subjectPrefix}.kick, trigger: { foreignId: "kick-{{ event.data.n }}" } }
`,
];

/** Applies both definitions on a fresh server and runs each to completion: started by the API and by the connector. */
async function runBoth(env: Record<string, string> | undefined, subjectPrefix: string): Promise<void> {
  const { server, api } = await startWorkflowServer({ env, workflow: { timeoutPollMs: 100, sweepIntervalMs: 60_000, roleTtlMs: 2000 } });
  const completed = (runId: string) =>
    eventually(`run ${runId} completed`, async () => {
      const run = (await api('GET', `/workflow/runs/${runId}`)).body as { runState: string; status: string };
      return run.runState === 'completed' ? run : undefined;
    });
  const start = async (workflow: string, foreignId: string) => (await api('POST', `/workflow/workflows/${workflow}/runs`, { foreignId })).body.runId as string;
  try {
    for (const d of definitions(subjectPrefix)) expect((await api('POST', '/workflow/definitions', d, 'application/yaml')).status).toBe(201);
    // parallel: 64 shards the example over 64 roles; runs with different ids land on different shards.
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => start(WORKFLOW, `f-${i}`)));
    for (const runId of runs) expect(await completed(runId)).toMatchObject({ status: 'done', runState: 'completed' });
    expect(await completed(await start(LONGEST.workflow, 'f-1'))).toMatchObject({ status: 'done' });
    // The connector's durable starts at 'new': publish until its role is consuming.
    const kicked = await eventually('the connector started a run', async () => {
      await api('POST', '/events', { type: `${subjectPrefix}.kick`, data: { n: 7 } });
      await new Promise((r) => setTimeout(r, 100));
      const runs = (await api('GET', `/workflow/runs?workflow=${LONGEST.workflow}&foreignId=kick-7`)).body.runs as { runId: string }[];
      return runs.length > 0 ? runs : undefined;
    });
    expect(kicked).toHaveLength(1);
    expect(await completed(kicked[0]!.runId)).toMatchObject({ status: 'done' });
  } finally {
    await server.stop();
  }
}

describe('workflow and status names at their longest', () => {
  it('run to completion on the memory bus (embedded)', async () => {
    await runBoth(undefined, 'longnames');
  }, 120_000);

  it('run to completion on NATS JetStream (distributed)', async () => {
    const db = await createTestDatabase('wfln');
    const prefix = uniqueName('wfln').toLowerCase();
    try {
      await runBoth({ DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: prefix }, 'longnames');
    } finally {
      await removeDeploymentData(prefix);
      await db.drop();
    }
  }, 120_000);
});
