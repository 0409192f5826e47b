/** Runs the WorkflowStorePort contract against the SQL adapter on PostgreSQL and PGlite, and against the memory adapter. */
import postgres from 'postgres';
import { afterAll } from 'vitest';
import { createPgliteDatabase } from '../../src/kernel/db/pglite-database.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { createMemoryWorkflowStore, createRecordStore } from '../../src/modules/workflow/store/index.ts';
import { PG_URL, uniqueName } from '../helpers/env.ts';
import { outboxOf } from './workflow-store-helpers.ts';
import { workflowStorePortContract, type StorePortFixture } from './workflow-store-port-contract.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';

const schema = uniqueName('wfport').toLowerCase();
const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
afterAll(async () => {
  await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

async function sqlFixture(db: Database): Promise<StorePortFixture> {
  await db.migrate(ALL_MODULE_MIGRATIONS);
  return {
    store: createRecordStore(db),
    events: async (runId) => (await outboxOf(db, runId)).map((r) => ({ type: r.type, data: r.data })),
    cleanup: () => db.close(),
  };
}

workflowStorePortContract('memory', async () => {
  const store = createMemoryWorkflowStore();
  return { store, events: async (runId) => store.outbox.filter((e) => e.correlationId === runId).map((e) => ({ type: e.type, data: e.data })), cleanup: async () => {} };
});
workflowStorePortContract('pglite', async () => sqlFixture(await createPgliteDatabase()));
workflowStorePortContract('postgres', async () => sqlFixture(await createPostgresDatabase({ url: PG_URL, schema })));
