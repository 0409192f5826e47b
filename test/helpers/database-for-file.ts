/** A PostgreSQL database for one test file: its own schema with every module's tables, dropped after the file. */
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { PG_URL, uniqueName } from './env.ts';
import { ALL_MODULE_MIGRATIONS } from './module-migrations.ts';

/** Filled in before the file's first test (hooks run in registration order, so a later beforeAll may use `db`). */
export interface DatabaseFixture {
  schema: string;
  db: Database;
}

/** Registers the file's hooks and returns the fixture they fill. */
export function databaseForFile(prefix: string): DatabaseFixture {
  const fx = { schema: uniqueName(prefix).toLowerCase() } as DatabaseFixture;
  beforeAll(async () => {
    fx.db = await createPostgresDatabase({ url: PG_URL, schema: fx.schema });
    await fx.db.migrate(ALL_MODULE_MIGRATIONS);
  }, 180_000);
  afterAll(async () => {
    await fx.db?.query(`DROP SCHEMA IF EXISTS ${fx.schema} CASCADE`);
    await fx.db?.close();
  });
  return fx;
}
