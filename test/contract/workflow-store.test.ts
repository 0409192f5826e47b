/** Runs the workflow store contract against PostgreSQL (a schema per suite on database `test`) and in-memory PGlite. */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { Conflict } from '../../src/kernel/errors.ts';
import { createPgliteDatabase } from '../../src/kernel/db/pglite-database.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { RUN_STATES, assertRunStateTransition, canTransitionRunState, type RunState } from '../../src/modules/workflow/model/run-state.ts';
import { PG_URL, uniqueName } from '../helpers/env.ts';
import type { WorkflowStoreFixture } from './workflow-store-helpers.ts';
import { workflowStoreContract } from './workflow-store-contract.ts';
import { workflowStoreListContract } from './workflow-store-list-contract.ts';

const filePrefix = uniqueName('wfs').toLowerCase();
const schemas: string[] = [];
const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });

afterAll(async () => {
  for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});

async function postgresFixture(): Promise<WorkflowStoreFixture> {
  const schema = `${filePrefix}_${schemas.length}`;
  schemas.push(schema);
  // More connections than the 10 concurrent writers of the race tests, so they really run at once.
  const db = await createPostgresDatabase({ url: PG_URL, schema, max: 12 });
  return { db, cleanup: () => db.close() };
}

async function pgliteFixture(): Promise<WorkflowStoreFixture> {
  const db = await createPgliteDatabase();
  return { db, cleanup: () => db.close() };
}

workflowStoreContract('postgres', postgresFixture);
workflowStoreListContract('postgres', postgresFixture);
workflowStoreContract('pglite', pgliteFixture);
workflowStoreListContract('pglite', pgliteFixture);

describe('run-state table', () => {
  // luno/workflow's allowed moves, written out independently of the module's table.
  const allowed = new Set([
    'initiated>running', 'initiated>paused',
    'running>completed', 'running>paused', 'running>cancelled',
    'paused>running', 'paused>cancelled',
    'completed>requestedDataDeleted', 'cancelled>requestedDataDeleted',
    'requestedDataDeleted>dataDeleted', 'dataDeleted>requestedDataDeleted',
  ]);

  it("allows exactly luno's moves (and staying put); every other move is a Conflict naming both states", () => {
    for (const from of RUN_STATES) {
      for (const to of RUN_STATES) {
        const ok = from === to || allowed.has(`${from}>${to}`);
        expect(canTransitionRunState(from, to), `${from} -> ${to}`).toBe(ok);
        if (ok) expect(() => assertRunStateTransition(from, to)).not.toThrow();
        else {
          let err: unknown;
          try {
            assertRunStateTransition(from as RunState, to as RunState);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(Conflict);
          expect((err as Error).message).toContain(`'${from}'`);
          expect((err as Error).message).toContain(`'${to}'`);
        }
      }
    }
  });
});
