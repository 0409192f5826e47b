/** The Database port on PGlite (Postgres in WebAssembly, one connection): embedded mode and fast tests. */
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { Logger } from '../log.ts';
import { runMigrations, type MigrationSession } from './migrator.ts';
import type { Database } from './port.ts';
import { transactionWithRetry } from './transaction.ts';

/** PGlite's WebAssembly modules and file-system bundle, passed in when the package's own files are not on disk. */
export interface PgliteWasmAssets {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
  fsBundle: Blob;
}

/** Options for `createPgliteDatabase`. */
export interface PgliteDatabaseOptions {
  /** Directory for the database files; undefined keeps everything in memory. */
  dataDir?: string;
  /** Embedded assets for the compiled binary (see pglite-assets.ts); undefined lets PGlite load its own. */
  wasm?: PgliteWasmAssets;
  log?: Logger;
}

/** Opens (and on first use initialises) a PGlite database. */
export async function createPgliteDatabase(opts: PgliteDatabaseOptions = {}): Promise<Database> {
  const pg = await PGlite.create({ dataDir: opts.dataDir, ...opts.wasm });
  const db = drizzle({ client: pg });
  const session: MigrationSession = {
    query: async (text, params) => (await pg.query<Record<string, unknown>>(text, params)).rows,
    // pg.transaction holds PGlite's transaction mutex, so no other query can slip into the migration.
    transaction: (fn) => pg.transaction(async (tx) => fn(async (text, params) => (await tx.query<Record<string, unknown>>(text, params)).rows)),
  };
  let closed: Promise<void> | undefined;
  return {
    kind: 'pglite',
    db,
    readDb: db,
    // PGlite's query waits for an open transaction to finish, so a statement never lands inside someone's transaction.
    query: async <T>(text: string, params: unknown[] = []) => (await pg.query<T>(text, params)).rows,
    listen: (channel, onNotify) => pg.listen(channel, onNotify),
    transaction: (fn, txOpts) => transactionWithRetry(db, fn, txOpts, opts.log),
    // One connection only: the advisory lock cannot contend, but keeps one code path with PostgreSQL.
    migrate: (modules) => runMigrations(session, modules),
    async ping() {
      await pg.query('SELECT 1');
    },
    close() {
      closed ??= pg.close();
      return closed;
    },
  };
}
