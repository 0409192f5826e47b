/**
 * Agents on two instances (issue 10 §benchmark): two `capstan serve` processes share PostgreSQL, BullMQ (Redis), NATS
 * and one worktree folder; N tasks are queued through both; once both instances run agents, one is SIGKILLed. Reports
 * how the tasks spread over the instances, how many were running on the killed one, whether all completed, and the
 * resume time of each orphan: from the SIGKILL to its first turn saved on the survivor (lease expiry + sweep + claim +
 * one LLM call). Run: `nice -n 5 bun bench/agents-distributed.ts [tasks]`.
 */
import { join } from 'node:path';
import { spawnFakeLlm } from '../test/contract/llm-fake.ts';
import { FAST_AGENTS, makeRepo } from '../test/helpers/agents-server.ts';
import { uniqueName } from '../test/helpers/env.ts';
import { createTestDatabase } from '../test/helpers/postgres.ts';
import { tempDir, type ServerProcess } from '../test/helpers/server-process.ts';
import { startInstance, type Instance } from '../test/helpers/distributed-instance.ts';
import type { JsonApi } from '../test/helpers/json-api.ts';
import { percentile } from './lib/stats.ts';

const TASKS = Number(process.argv[2] ?? 60);
const TURNS = 10;
const LATENCY_MS = 100;
const DEADLINE_MS = 600_000;

type Row = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fake = await spawnFakeLlm(['--latency-ms', String(LATENCY_MS)]);
const db = await createTestDatabase('agentsdist');
const prefix = uniqueName('agentsdist').toLowerCase();
const shared = tempDir('capstan-agents-dist-');
const procs: ServerProcess[] = [];

function start(): Promise<Instance> {
  const settings = { ...FAST_AGENTS, concurrency: TASKS, maxRecoveries: 3, worktreesDir: join(shared, 'worktrees'), artifactsDir: join(shared, 'artifacts') };
  return startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'agents', settings, env: { CAPSTAN_LOG__LEVEL: 'warn' }, track: procs, timeoutMs: 120_000 });
}

try {
  const [a, b] = await Promise.all([start(), start()]);
  const read = { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }], usage: { input: 100, output: 10 } };
  await fake.script({ sessionHeader: 'x-capstan-agent', replies: [...Array.from({ length: TURNS - 1 }, () => read), { toolCalls: [{ name: 'finish', arguments: { summary: 'done' } }], usage: { input: 100, output: 10 } }] });
  const repo = makeRepo();
  // All at once, half through each instance, so that many run together.
  const ids: string[] = await Promise.all(
    Array.from({ length: TASKS }, async (_, i) => {
      const r = await (i % 2 ? b : a).api('POST', '/tasks', { model: 'fake/agent', task: `task ${i}`, repo });
      if (r.status !== 201) throw new Error(`spawn ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id as string;
    }),
  );
  const list = async (api: JsonApi) => ((await api('GET', '/agents?limit=1000')).body.items as Row[]).filter((x) => ids.includes(x.id));
  // Kill once both instances run agents that have saved a turn, with at least a third of the tasks running.
  let snapshot: Row[] = [];
  const firstOwner = new Map<string, string>();
  const seeOwners = (rows: Row[]) => rows.forEach((x) => x.status === 'running' && x.owner && !firstOwner.has(x.id) && firstOwner.set(x.id, x.owner));
  const t0 = Date.now();
  for (;;) {
    snapshot = await list(b.api);
    seeOwners(snapshot);
    const running = snapshot.filter((x) => x.status === 'running' && x.turn >= 1);
    if (new Set(running.map((x) => x.owner)).size === 2 && running.length >= Math.min(10, TASKS / 3)) break;
    if (snapshot.every((x) => ['completed', 'failed', 'killed'].includes(x.status))) throw new Error('all ended before both instances ran agents; use more tasks');
    if (Date.now() - t0 > DEADLINE_MS) throw new Error('timed out waiting for both instances to run agents');
    await sleep(100);
  }
  const orphans = snapshot.filter((x) => x.status === 'running' && x.owner === a.id);
  const killAt = Date.now();
  await a.proc.stop('SIGKILL');
  const survivorEndedBefore = snapshot.filter((x) => ['completed'].includes(x.status)).length;
  let final: Row[] = [];
  for (;;) {
    final = await list(b.api);
    seeOwners(final);
    if (final.every((x) => ['completed', 'failed', 'killed'].includes(x.status))) break;
    if (Date.now() - killAt > DEADLINE_MS) break;
    await sleep(250);
  }
  const resume: number[] = [];
  let fromLastTurn = 0;
  for (const o of orphans) {
    const logs = (await b.api('GET', `/agents/${o.id}/logs?limit=1000`)).body.items as Row[];
    const after = logs.filter((l) => l.kind === 'assistant' && Date.parse(l.createdAt) > killAt);
    if (after[0]) resume.push(Date.parse(after[0].createdAt) - killAt);
    // Resumed from its last saved turn: the first turn saved after the kill is the one after the snapshot's (or later, when a turn was saved between the snapshot and the kill).
    if (after[0] && after[0].turn >= o.turn + 1) fromLastTurn += 1;
  }
  const done = final.filter((x) => x.status === 'completed');
  const fmt = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
  const recovered = final.filter((x) => x.recoveries > 0).length;
  console.log(`| figure | value |\n| --- | ---: |`);
  console.log(`| tasks queued (through both instances) | ${TASKS} |`);
  console.log(`| tasks first seen running on A / B (polled every 100-250 ms; some short runs are never seen) | ${[...firstOwner.values()].filter((o) => o === a.id).length} / ${[...firstOwner.values()].filter((o) => o === b.id).length} |`);
  console.log(`| running at the kill: instance A / B | ${orphans.length} / ${snapshot.filter((x) => x.status === 'running' && x.owner === b.id).length} (completed before it: ${survivorEndedBefore}) |`);
  console.log(`| completed in the end | ${done.length} of ${TASKS} (failed ${final.filter((x) => x.status === 'failed').length}, not ended ${final.filter((x) => !['completed', 'failed', 'killed'].includes(x.status)).length}) |`);
  console.log(`| orphans resumed on B with recoveries ≥ 1 | ${recovered} (orphans ${orphans.length}) |`);
  console.log(`| orphans continuing after their saved turn (not from turn 0) | ${fromLastTurn} of ${orphans.length} |`);
  console.log(`| resume time p50 / p99 / max (SIGKILL → first turn saved on B) | ${fmt(percentile(resume, 50))} / ${fmt(percentile(resume, 99))} / ${fmt(Math.max(...resume))} (leaseMs ${FAST_AGENTS.leaseMs}, sweep ${FAST_AGENTS.sweepIntervalMs} ms) |`);
  console.log(`| wall, spawn of the first task → last end | ${fmt(Math.max(...final.map((x) => Date.parse(x.finishedAt ?? x.updatedAt))) - Math.min(...final.map((x) => Date.parse(x.createdAt))))} |`);
} finally {
  for (const p of procs) await p.stop('SIGTERM').catch(() => undefined);
  await fake.stop().catch(() => undefined);
  await db.drop().catch(() => undefined);
}
