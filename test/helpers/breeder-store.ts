/** A breeder store on real PostgreSQL for one test file: its own schema with every module's tables, dropped after the file. */
import { beforeAll } from 'vitest';
import { createBreederStore, type BreederStore } from '../../src/modules/breeder/store/index.ts';
import { databaseForFile, type DatabaseFixture } from './database-for-file.ts';

/** Filled in before the file's first test. */
export interface BreederStoreFixture extends DatabaseFixture {
  store: BreederStore;
}

/** Registers the file's hooks and returns the fixture they fill. */
export function breederStoreForFile(prefix: string): BreederStoreFixture {
  const fx = databaseForFile(prefix) as BreederStoreFixture;
  beforeAll(() => {
    fx.store = createBreederStore(fx.db);
  });
  return fx;
}
