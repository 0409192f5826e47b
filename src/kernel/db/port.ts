/** The Database port: drizzle over postgres.js (distributed) or PGlite (embedded), one schema, one migration sequence. */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/** A drizzle database or transaction handle; both adapters expose the same query builder. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = PgDatabase<PgQueryResultHKT, any>;

/** Options for `Database.transaction`. */
export interface TransactionOptions {
  /** Attempts for transient failures (SQLSTATE classes 08, 40, 53, 57). Default 5. */
  attempts?: number;
  isolationLevel?: 'read committed' | 'repeatable read' | 'serializable';
}

/** The database as the kernel and modules see it. */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /** The query builder, outside a transaction. */
  readonly db: Db;
  /** Runs `fn` in one transaction, retrying the whole function on transient errors only. */
  transaction<T>(fn: (tx: Db) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /** Applies pending migrations under an advisory lock; returns the names applied by this call. */
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
