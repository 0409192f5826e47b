/**
 * Applies SQL migrations once per database, even when many instances start at the same moment: the kernel's journal
 * first, then each module's, each owner tracked separately in kernel_migrations (module, tag).
 */
import { LEGACY_TAGS } from './legacy-journal.ts';
import type { Migration, MigrationSet } from './migration.ts';
import { migrations as kernelMigrations } from './migrations.gen.ts';

export type { Migration, MigrationSet };

/** Runs one statement on the session's connection. */
export type RunStatement = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** One database session (a single connection) as the migrator needs it; each adapter provides one. */
export interface MigrationSession {
  query: RunStatement;
  /** Runs `fn` in a transaction on this same connection; commits on return, rolls back on throw. */
  transaction(fn: (query: RunStatement) => Promise<void>): Promise<void>;
}

/** The kernel's own journal; always applied first. */
export const KERNEL_MIGRATIONS: MigrationSet = { module: 'kernel', migrations: kernelMigrations };

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
 * Applies every migration not yet recorded in `kernel_migrations`: the kernel's, then each of `modules` in the order
 * given, each migration in its own transaction, all under one advisory lock held by `session`. Returns what this call
 * applied as `module/tag`.
 */
export async function runMigrations(session: MigrationSession, modules: readonly MigrationSet[] = []): Promise<string[]> {
  const sets = [KERNEL_MIGRATIONS, ...modules.filter((s) => s.module !== 'kernel')];
  const names = sets.map((s) => s.module);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`migrations of '${twice}' given twice`);
  await session.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  try {
    // Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type.
    await session.query('CREATE TABLE IF NOT EXISTS kernel_migrations (module text NOT NULL, tag text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (module, tag))');
    await upgradeLegacyRecords(session);
    const rows = await session.query('SELECT module, tag FROM kernel_migrations');
    const done = new Set(rows.map((r) => `${String(r.module)}/${String(r.tag)}`));
    const applied: string[] = [];
    for (const set of sets) {
      for (const m of set.migrations) {
        const name = `${set.module}/${m.tag}`;
        if (done.has(name)) continue;
        await session.transaction(async (q) => {
          for (const statement of splitStatements(m.sql)) await q(statement);
          await q('INSERT INTO kernel_migrations (module, tag) VALUES ($1, $2)', [set.module, m.tag]);
        });
        applied.push(name);
      }
    }
    await unlock(session);
    return applied;
  } catch (err) {
    // The migration's own error is the one worth reporting; an unlock failure here would only hide it.
    await unlock(session).catch(() => {});
    throw err;
  }
}

/**
 * A database migrated before issue 8 has kernel_migrations(tag, applied_at) with the old single journal's tags. In one
 * transaction: add the owner column, rename each recorded tag to its owner's (legacy-journal.ts; the SQL is the same),
 * and key the table by (module, tag). Nothing is re-run and applied_at is kept. Unknown tags are kept under 'legacy'.
 */
async function upgradeLegacyRecords(session: MigrationSession): Promise<void> {
  const cols = await session.query(
    "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'kernel_migrations' AND column_name = 'module'",
  );
  if (cols.length > 0) return;
  await session.transaction(async (q) => {
    await q('ALTER TABLE kernel_migrations DROP CONSTRAINT IF EXISTS kernel_migrations_pkey');
    await q('ALTER TABLE kernel_migrations ADD COLUMN module text');
    for (const [old, to] of Object.entries(LEGACY_TAGS)) await q('UPDATE kernel_migrations SET module = $1, tag = $2 WHERE tag = $3 AND module IS NULL', [to.module, to.tag, old]);
    await q("UPDATE kernel_migrations SET module = 'legacy' WHERE module IS NULL");
    await q('ALTER TABLE kernel_migrations ALTER COLUMN module SET NOT NULL');
    await q('ALTER TABLE kernel_migrations ADD PRIMARY KEY (module, tag)');
  });
}

async function unlock(session: MigrationSession): Promise<void> {
  await session.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
}
