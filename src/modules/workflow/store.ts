/**
 * The workflow record store over the kernel's Database (PostgreSQL or PGlite): runs with version
 * compare-and-set, their history, the transactional outbox, timeouts and definitions.
 */
import type { Database } from '../../kernel/index.ts';
import { definitionStore } from './store-definitions.ts';
import { runMover } from './store-move.ts';
import { runReaders } from './store-queries.ts';
import { runStarter } from './store-start.ts';
import { runWriters } from './store-runs.ts';
import { timeoutStore } from './timeouts-store.ts';

/** Everything the workflow module persists, as one object. */
export type RecordStore = ReturnType<typeof runWriters> & ReturnType<typeof runMover> & ReturnType<typeof runStarter> & ReturnType<typeof runReaders> & ReturnType<typeof timeoutStore> & ReturnType<typeof definitionStore>;

/** Builds the record store on `db`; the tables come from the embedded migrations (`db.migrate()`). */
export function createRecordStore(db: Database): RecordStore {
  return { ...runWriters(db), ...runMover(db), ...runStarter(db), ...runReaders(db), ...timeoutStore(db), ...definitionStore(db) };
}

export type * from './store-types.ts';
