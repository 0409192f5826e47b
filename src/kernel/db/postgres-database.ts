/** The Database port on PostgreSQL: postgres.js pool + drizzle, migrations on one reserved connection. */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { Invalid } from '../errors.ts';
import type { Logger } from '../log.ts';
import { runMigrations, type MigrationSession, type RunStatement } from './migrator.ts';
import type { Database } from './port.ts';
import { transactionWithRetry } from './transaction.ts';

/** Options for `createPostgresDatabase`. */
export interface PostgresDatabaseOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** A Postgres schema to hold every table (created if absent); for test isolation. Default: the server's search_path. */
  schema?: string;
  log?: Logger;
  /** Pool size. Default 10. */
  max?: number;
  /** Seconds to wait for a TCP connection before failing. Default 10. */
  connectTimeoutSeconds?: number;
  /** A read replica (postgres://...) for `readDb`; unset: `readDb` is the primary. */
  readUrl?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens a pool and checks that the server answers; throws (after closing the pool) if it does not, so that
 * boot's `connectWithRetry` can retry and finally report PostgreSQL as unavailable.
 */
export async function createPostgresDatabase(opts: PostgresDatabaseOptions): Promise<Database> {
  const { schema, log } = opts;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Invalid(`schema name '${schema}' must be lower-case letters, digits and underscores`, [{ path: 'schema', message: 'invalid schema name' }]);
  }
  const sql = openPool(opts.url, opts, schema);
  try {
    if (schema) await createSchema(sql, schema);
    else await sql`SELECT 1`;
  } catch (err) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw err;
  }
  const db = drizzle({ client: sql });
  let replica: postgres.Sql | undefined;
  if (opts.readUrl) {
    replica = openPool(opts.readUrl, opts, schema);
    try {
      await replica`SELECT 1`;
    } catch (err) {
      await Promise.all([sql.end({ timeout: 0 }), replica.end({ timeout: 0 })]).catch(() => {});
      throw err;
    }
  }
  const readDb = replica ? drizzle({ client: replica }) : db;
  let closed: Promise<void> | undefined;
  return {
    kind: 'postgres',
    db,
    readDb,
    async query<T>(text: string, params: unknown[] = []) {
      return [...(await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }))] as T[];
    },
    async listen(channel, onNotify) {
      // After its LISTEN connection drops, postgres.js listens again under a new listener record, so the unlisten it
      // gave us no longer finds ours (and a failed listen is retried on reconnect): this flag is what really stops it.
      let active = true;
      try {
        const { unlisten } = await sql.listen(channel, (payload) => {
          if (active) onNotify(payload);
        });
        return async () => {
          active = false;
          await unlisten();
        };
      } catch (err) {
        active = false;
        throw err;
      }
    },
    transaction: (fn, txOpts) => transactionWithRetry(db, fn, txOpts, log),
    async migrate(modules) {
      // The advisory lock is per session: the lock, the statements and the unlock must share one connection.
      const reserved = await sql.reserve();
      try {
        return await runMigrations(sessionOf(reserved), modules);
      } finally {
        reserved.release();
      }
    },
    async ping() {
      await sql`SELECT 1`;
    },
    close() {
      closed ??= Promise.all([sql.end({ timeout: 5 }), replica?.end({ timeout: 5 })]).then(() => {});
      return closed;
    },
  };
}

/** One postgres.js pool with the settings both the primary and a replica use. */
function openPool(url: string, opts: PostgresDatabaseOptions, schema: string | undefined): postgres.Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeoutSeconds ?? 10,
    // Seconds between reconnect attempts of a pooled connection. postgres.js's default grows to 20 s, so after a
    // PostgreSQL restart requests and /readyz kept failing for up to 20 s; cap it at 2 s with jitter.
    backoff: (attempts: number) => Math.min(2, 0.05 * 2 ** attempts) * (0.5 + Math.random() / 2),
    onnotice: () => {},
    // A startup parameter, so every pooled connection (and the migrator's) resolves tables in `schema`.
    connection: { application_name: 'capstan', ...(schema ? { search_path: schema } : {}) },
  });
}

async function createSchema(sql: postgres.Sql, schema: string): Promise<void> {
  try {
    await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (err) {
    // Two instances creating the schema at once: IF NOT EXISTS is not atomic, the loser sees a duplicate.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

function sessionOf(conn: postgres.ReservedSql): MigrationSession {
  const query: RunStatement = async (text, params) => [...(await conn.unsafe(text, params as postgres.ParameterOrJSON<never>[] | undefined))];
  return {
    query,
    async transaction(fn) {
      await query('BEGIN');
      try {
        await fn(query);
        await query('COMMIT');
      } catch (err) {
        await query('ROLLBACK').catch(() => {});
        throw err;
      }
    },
  };
}
