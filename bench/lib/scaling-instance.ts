/**
 * One Capstan instance as a separate process for the scaling benchmark: the workflow module and outbox relay on
 * PostgreSQL + NATS (see workflow-stack.ts), driven by JSON lines on stdin, answering JSON lines on stdout:
 *   {"op":"trigger","n":N,"tag":T,"concurrency":C} -> {"op":"triggered"}
 *   {"op":"stats"} -> {"op":"stats","steps":S,"held":{set:count},"members":M}
 *   {"op":"stop"} -> {"op":"stopped"} (graceful: shards released, membership left), then exits.
 * Argument: JSON {pgUrl, schema, prefix, instanceId, workflow, steps, parallel}.
 */
import { createInterface } from 'node:readline';
import { connect } from '@nats-io/transport-node';
import { NatsBus } from '../../src/kernel/bus/nats-bus.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { chainWorkflow } from './chain-workflow.ts';
import { pipelined } from './pipeline.ts';
import { startWorkflowInstance } from './workflow-stack.ts';
import { ALL_MODULE_MIGRATIONS } from '../../test/helpers/module-migrations.ts';

const o = JSON.parse(process.argv[2]!) as { pgUrl: string; schema: string; prefix: string; instanceId: string; workflow: string; steps: number; parallel: number };
const log = createLogger({ level: 'warn', name: o.instanceId });
const db = await createPostgresDatabase({ url: o.pgUrl, schema: o.schema, log });
await db.migrate(ALL_MODULE_MIGRATIONS);
const nc = await connect({ servers: 'nats://127.0.0.1:4222', name: o.instanceId });
const bus = await NatsBus.connect({ connection: nc, prefix: o.prefix, source: o.instanceId });
const kv = new NatsKvStore({ connection: nc, prefix: o.prefix });
const instance = await startWorkflowInstance('distributed', { db, bus, kv }, o.instanceId, [chainWorkflow(o.workflow, o.steps, o.parallel)]);

const say = (x: unknown) => process.stdout.write(`${JSON.stringify(x)}\n`);

/** Sum of a metric's samples (a histogram's `_count` samples when `suffix` says so), by one label if asked. */
async function samples(name: string, by?: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await instance.metrics.registry.getMetricsAsJSON()) {
    if (m.name !== name) continue;
    for (const v of m.values as { value: number; labels: Record<string, string>; metricName?: string }[]) {
      if (v.metricName !== undefined && v.metricName !== `${name}_count`) continue;
      const key = by ? String(v.labels[by]) : 'all';
      out[key] = (out[key] ?? 0) + v.value;
    }
  }
  return out;
}

say({ op: 'ready' });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { op: string; n?: number; tag?: string; concurrency?: number };
  if (cmd.op === 'trigger') {
    await pipelined(cmd.n!, cmd.concurrency!, (i) => instance.trigger(o.workflow, `${cmd.tag}-${i}`, { i }));
    say({ op: 'triggered' });
  } else if (cmd.op === 'stats') {
    say({ op: 'stats', steps: (await samples('workflow_process_latency_seconds')).all ?? 0, held: await samples('roles_held', 'set'), members: instance.roles.members().length });
  } else if (cmd.op === 'stop') {
    await instance.stop();
    await bus.close();
    await kv.close();
    await nc.drain().catch(() => nc.close());
    await db.close();
    say({ op: 'stopped' });
    process.exit(0);
  }
}
