/** The Database port: drizzle over postgres.js (distributed) or PGlite (embedded), one schema, a migration journal per owner. */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { MigrationSet } from './migration.ts';

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
  /**
   * The query builder for reads that may lag behind writes by the replica's delay: lists and counts served to users.
   * A streaming replica when `database.readUrl` (DATABASE_READ_URL) is set, else the same handle as `db`. Never for a
   * read that decides a write (it may miss a row just committed).
   */
  readonly readDb: Db;
  /**
   * Runs ONE SQL statement with `$1..$n` parameters on its own (autocommit: a single statement, even with
   * data-modifying CTEs, is atomic). On PostgreSQL it is a named prepared statement, so after its first use it
   * costs one round trip and no re-planning; the query builder's statements cost two round trips each. Rows keep
   * the database's column names; timestamps may come back as strings on PostgreSQL (the query builder's driver
   * setting) and as Dates on PGlite. For hot paths; use `db` everywhere else. Type parameters in the SQL with
   * casts (`$1::text`, `$2::int`, `($3::text)::jsonb`) so both adapters send the values as given.
   */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` (from any instance) until the returned function is called.
   * PostgreSQL listens on a dedicated connection that reconnects after an outage; notifications sent while it was
   * down are lost, so a listener must also poll now and then.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Runs `fn` in one transaction, retrying the whole function on transient errors only. */
  transaction<T>(fn: (tx: Db) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /**
   * Applies pending migrations under an advisory lock: the kernel's, then each of `modules` in order (each owner's
   * journal tracked on its own); returns what this call applied as `module/tag`.
   */
  migrate(modules?: readonly MigrationSet[]): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
