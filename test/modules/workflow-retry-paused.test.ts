/** The engine's retry of runs paused by errors: a paused run it cannot resume must not stop it resuming the others. */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import { createPgliteDatabase } from '../../src/kernel/db/pglite-database.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { defineWorkflow } from '../../src/modules/workflow/model/builder.ts';
import { WorkflowEngine } from '../../src/modules/workflow/runtime/engine.ts';
import { createWorkflowMetrics } from '../../src/modules/workflow/runtime/metrics.ts';
import { createRecordStore, type RecordStore } from '../../src/modules/workflow/store/index.ts';
import { testRoles } from '../helpers/roles.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';
import { eventually } from '../kit/index.ts';

let db: Database;
let store: RecordStore;
let engine: WorkflowEngine | undefined;
beforeAll(async () => {
  db = await createPgliteDatabase();
  await db.migrate(ALL_MODULE_MIGRATIONS);
  store = createRecordStore(db);
}, 180_000);
afterAll(async () => {
  await engine?.stop();
  await db?.close();
});

it('resumes a run paused by errors even when an older paused run belongs to a workflow this instance does not run', async () => {
  const paused = async (workflow: string) => {
    const run = await store.createRun({ workflow, foreignId: 'f-1', status: 'start', runState: 'running' }, () => []);
    return store.move(run, { runState: 'paused', reason: 'errors: 3 failed attempts' }, () => []);
  };
  // The older one first: the retry takes paused runs oldest first.
  const orphan = await paused('no-longer-defined');
  const mine = await paused('resumable');
  const kv = new MemoryKvStore();
  engine = new WorkflowEngine({
    store,
    bus: new MemoryBus({ source: 'test' }),
    roles: testRoles(kv, 'test'),
    kv,
    log: createLogger({ level: 'silent' }),
    metrics: createWorkflowMetrics(new Registry()),
    leaseTtlMs: 2_000,
    sweepIntervalMs: 500,
    timeoutPollMs: 100,
    retryPausedAfterMs: 100,
  });
  await engine.register(defineWorkflow<object, 'start' | 'done'>('resumable').step('start', () => 'done', 'done').build());
  engine.start();
  await eventually(async () => (await store.lookup(mine.runId))?.runState !== 'paused', { timeout: 20_000, what: 'the run paused by errors resumed' });
  expect((await store.lookup(orphan.runId))?.runState).toBe('paused');
}, 30_000);
