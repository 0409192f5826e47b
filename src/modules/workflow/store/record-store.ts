/** The record store: every writer and reader of the workflow tables on one Database, as one object. */
import type { Database } from '../../../kernel/index.ts';
import { runCreator } from './create-run.ts';
import { dataDeleter } from './delete-data.ts';
import { definitionStore } from './definitions.ts';
import { runMover } from './move.ts';
import type { WorkflowStorePort } from './port.ts';
import { runReaders } from './queries.ts';
import { timeoutStore } from './timeouts.ts';
import { triggerKeyStore } from './trigger-keys.ts';

/** Everything the workflow module persists, as one object. */
export type RecordStore = ReturnType<typeof runCreator> & ReturnType<typeof runMover> & ReturnType<typeof dataDeleter> & ReturnType<typeof runReaders> & ReturnType<typeof timeoutStore> & ReturnType<typeof definitionStore> & ReturnType<typeof triggerKeyStore>;

/** Builds the record store on `db`; the tables come from the module's embedded migrations (serve passes them to `db.migrate`). */
export function createRecordStore(db: Database): RecordStore {
  const store = { ...runCreator(db), ...runMover(db), ...dataDeleter(db), ...runReaders(db), ...timeoutStore(db), ...definitionStore(db), ...triggerKeyStore(db) };
  // The engine's port is a part of the record store, not an adapter over it.
  return store satisfies WorkflowStorePort;
}
