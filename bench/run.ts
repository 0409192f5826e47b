/** `bun bench/run.ts [http] [bus] [queue] [lease] [workflow] [scaling] [llm] [cascades] [agents] [mesh] [diagram] [--no-write]`: runs the benchmarks, prints one table, rewrites bench/RESULTS.md. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureFetchLimit } from './lib/fetch-limit.ts';
import { loadGenerator } from './lib/load.ts';
import { machineFacts } from './lib/machine.ts';
import { writeResults } from './lib/results.ts';
import type { BenchRow } from './lib/row.ts';
import { printTable } from './lib/table.ts';

/** A benchmark: how to run it and how it measures (for RESULTS.md). Loaded lazily so a subset needs only its own adapters. */
interface Benchmark {
  load(): Promise<() => Promise<BenchRow[]>>;
  method(): Promise<string[]>;
}

const benchmarks: Record<string, Benchmark> = {
  http: { load: async () => (await import('./http.ts')).runHttp, method: async () => (await import('./http.ts')).HTTP_METHOD },
  bus: { load: async () => (await import('./bus.ts')).runBus, method: async () => (await import('./bus.ts')).BUS_METHOD },
  queue: { load: async () => (await import('./queue.ts')).runQueue, method: async () => (await import('./queue.ts')).QUEUE_METHOD },
  lease: { load: async () => (await import('./lease.ts')).runLease, method: async () => (await import('./lease.ts')).LEASE_METHOD },
  workflow: { load: async () => (await import('./workflow.ts')).runWorkflow, method: async () => (await import('./workflow.ts')).WORKFLOW_METHOD },
  scaling: { load: async () => (await import('./scaling.ts')).runScaling, method: async () => (await import('./scaling.ts')).SCALING_METHOD },
  llm: { load: async () => (await import('./llm.ts')).runLlm, method: async () => (await import('./llm.ts')).LLM_METHOD },
  agents: { load: async () => (await import('./agents.ts')).runAgents, method: async () => (await import('./agents.ts')).AGENTS_METHOD },
  cascades: { load: async () => (await import('./cascades.ts')).runCascades, method: async () => (await import('./cascades.ts')).CASCADES_METHOD },
  mesh: { load: async () => (await import('./mesh-failover.ts')).runMeshFailover, method: async () => (await import('./mesh-failover.ts')).MESH_METHOD },
  diagram: { load: async () => (await import('./diagram.ts')).runDiagram, method: async () => (await import('./diagram.ts')).DIAGRAM_METHOD },
};

// The cascades and llm rows put hundreds of calls in flight from this process: Bun's fetch cap must be raised at start.
await ensureFetchLimit();
const args = process.argv.slice(2);
const write = !args.includes('--no-write');
const names = args.filter((a) => a !== '--no-write');
const unknown = names.filter((n) => !(n in benchmarks));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(benchmarks).join(', ')}\n`);
  process.exit(2);
}
const selected = names.length > 0 ? Object.keys(benchmarks).filter((n) => names.includes(n)) : Object.keys(benchmarks);

const date = Bun.spawnSync(['date', '-u']).stdout.toString().trim();
// Other work on the machine skews every figure; the load average before and after lets a reader judge that.
const loadAt = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadBefore = loadAt();
const started = performance.now();
const rows: BenchRow[] = [];
const failures: { group: string; error: string }[] = [];
const method: { group: string; lines: string[] }[] = [];
for (const name of selected) {
  process.stderr.write(`== ${name}\n`);
  const t = performance.now();
  try {
    const run = await benchmarks[name]!.load();
    rows.push(...(await run()));
    method.push({ group: name, lines: await benchmarks[name]!.method() });
  } catch (err) {
    failures.push({ group: name, error: (err as Error).message });
    process.stderr.write(`${name} FAILED: ${(err as Error).stack ?? err}\n`);
  }
  process.stderr.write(`== ${name} took ${Math.round((performance.now() - t) / 1000)} s\n`);
}

process.stdout.write('\n');
printTable(rows);
for (const f of failures) process.stdout.write(`${f.group}: FAILED: ${f.error}\n`);

if (write) {
  const command = `bun bench/run.ts${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
  const facts = await machineFacts(loadGenerator());
  facts.push(['load average (1/5/15 min) before → after', `${loadBefore} → ${loadAt()}`]);
  const path = join(import.meta.dirname, 'RESULTS.md');
  writeResults(path, { command, date, wallSeconds: (performance.now() - started) / 1000, rows, failures, facts, method });
  process.stderr.write(`wrote ${path}\n`);
}
process.exit(failures.length > 0 ? 1 : 0);
