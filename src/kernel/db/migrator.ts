/** Applies the embedded SQL migrations once per database, even when many instances start at the same moment. */
import { migrations as embedded } from './migrations.gen.ts';

/** One migration: drizzle's tag (file name without .sql) and its SQL text. */
export interface Migration {
  readonly tag: string;
  readonly sql: string;
}

/** Runs one statement on the session's connection. */
export type RunStatement = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** One database session (a single connection) as the migrator needs it; each adapter provides one. */
export interface MigrationSession {
  query: RunStatement;
  /** Runs `fn` in a transaction on this same connection; commits on return, rolls back on throw. */
  transaction(fn: (query: RunStatement) => Promise<void>): Promise<void>;
}

// A fixed key: every Capstan instance contends for the same lock, whatever its version.
// Session-level, so a crashed instance's lock goes with its connection.
const MIGRATION_LOCK_KEY = '7306354209581326121';
const BREAKPOINT = '--> statement-breakpoint';

/** Splits drizzle's SQL on its statement-breakpoint marker; drops empty pieces. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(BREAKPOINT)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Applies every migration not yet recorded in `kernel_migrations`, in order, each in its own transaction,
 * all under one advisory lock held by `session`; returns the tags this call applied.
 */
export async function runMigrations(session: MigrationSession, migrations: readonly Migration[] = embedded): Promise<string[]> {
  await session.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  try {
    // Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type.
    await session.query('CREATE TABLE IF NOT EXISTS kernel_migrations (tag text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const rows = await session.query('SELECT tag FROM kernel_migrations');
    const done = new Set(rows.map((r) => String(r.tag)));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.tag)) continue;
      await session.transaction(async (q) => {
        for (const statement of splitStatements(m.sql)) await q(statement);
        await q('INSERT INTO kernel_migrations (tag) VALUES ($1)', [m.tag]);
      });
      applied.push(m.tag);
    }
    await unlock(session);
    return applied;
  } catch (err) {
    // The migration's own error is the one worth reporting; an unlock failure here would only hide it.
    await unlock(session).catch(() => {});
    throw err;
  }
}

async function unlock(session: MigrationSession): Promise<void> {
  await session.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
}
