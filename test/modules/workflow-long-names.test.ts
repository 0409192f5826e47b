/**
 * Names at the schema's limits still run: a workflow and a status of 41 and 44 characters (issue 7's example) made a
 * consumer durable name over the bus's limit, so the definition was accepted and its runs never moved. Runs to
 * completion on both bus adapters: embedded (MemoryBus) and distributed (NATS JetStream, PostgreSQL, Redis).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import type { Module } from '../../src/kernel/module.ts';
import { createWorkflowModule } from '../../src/modules/workflow/index.ts';
import { removeDeploymentData } from '../helpers/deployment-cleanup.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { tempDir } from '../helpers/server-process.ts';

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

async function runBoth(cfgFor: (modules: Module[]) => ReturnType<typeof loadConfig>, subjectPrefix: string): Promise<void> {
  const modules = [createWorkflowModule() as Module];
  const server: RunningServer = await startServer(cfgFor(modules), modules, 'test');
  const base = `${server.url}/api/v1`;
  const post = async (path: string, body: string, type = 'application/json') => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': type }, body });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const waitCompleted = async (runId: string) => {
    for (let i = 0; i < 300; i++) {
      const run = (await (await fetch(`${base}/workflow/runs/${runId}`)).json()) as { runState: string; status: string };
      if (run.runState === 'completed') return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${runId} never completed`);
  };
  try {
    for (const d of definitions(subjectPrefix)) expect((await post('/workflow/definitions', d, 'application/yaml')).status).toBe(201);
    // parallel: 64 shards the example over 64 roles; runs with different ids land on different shards.
    const runs = await Promise.all(Array.from({ length: 8 }, async (_, i) => (await post(`/workflow/workflows/${WORKFLOW}/runs`, JSON.stringify({ foreignId: `f-${i}` }))).body.runId as string));
    for (const runId of runs) expect(await waitCompleted(runId)).toMatchObject({ status: 'done', runState: 'completed' });
    const longest = (await post(`/workflow/workflows/${LONGEST.workflow}/runs`, JSON.stringify({ foreignId: 'f-1' }))).body.runId as string;
    expect(await waitCompleted(longest)).toMatchObject({ status: 'done' });
    // The connector's durable starts at 'new': publish until its role is consuming.
    let kicked: { runId: string }[] = [];
    for (let i = 0; i < 200 && kicked.length === 0; i++) {
      await post('/events', JSON.stringify({ type: `${subjectPrefix}.kick`, data: { n: 7 } }));
      await new Promise((r) => setTimeout(r, 100));
      kicked = ((await (await fetch(`${base}/workflow/runs?workflow=${LONGEST.workflow}&foreignId=kick-7`)).json()) as { runs: { runId: string }[] }).runs;
    }
    expect(kicked).toHaveLength(1);
    expect(await waitCompleted(kicked[0]!.runId)).toMatchObject({ status: 'done' });
  } finally {
    await server.stop();
  }
}

const flags = { 'server.port': 0, 'log.level': 'silent', 'modules.workflow': { timeoutPollMs: 100, sweepIntervalMs: 60_000, roleTtlMs: 2000 } };

describe('workflow and status names at their longest', () => {
  it('run to completion on the memory bus (embedded)', async () => {
    await runBoth((modules) => loadConfig(modules, { env: {}, flags: { ...flags, dataDir: join(tempDir(), 'data') } }), 'longnames');
  }, 60_000);

  it('run to completion on NATS JetStream (distributed)', async () => {
    const db = await createTestDatabase('wfln');
    const prefix = uniqueName('wfln').toLowerCase();
    try {
      await runBoth((modules) => loadConfig(modules, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL }, flags: { ...flags, prefix, 'auth.enabled': false } }), 'longnames');
    } finally {
      await removeDeploymentData(prefix);
      await db.drop();
    }
  }, 60_000);
});
