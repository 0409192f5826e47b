/**
 * Per-owner migration journals on PostgreSQL and PGlite: the kernel's first, then each module's given, tracked apart;
 * a database migrated by the old single journal (before issue 8) upgrades without re-running or losing anything.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { LEGACY_TAGS } from '../../src/kernel/db/legacy-journal.ts';
import type { MigrationSet } from '../../src/kernel/db/migration.ts';
import { KERNEL_MIGRATIONS } from '../../src/kernel/db/migrator.ts';
import { createPgliteDatabase } from '../../src/kernel/db/pglite-database.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { PG_URL, uniqueName } from '../helpers/env.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';

const filePrefix = uniqueName('mig').toLowerCase();
const schemas: string[] = [];
const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
const opened: Database[] = [];

afterAll(async () => {
  for (const d of opened) await d.close();
  for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});

const every = [KERNEL_MIGRATIONS, ...ALL_MODULE_MIGRATIONS];
const names = (sets: readonly MigrationSet[]) => sets.flatMap((s) => s.migrations.map((m) => `${s.module}/${m.tag}`));
const workflow = ALL_MODULE_MIGRATIONS.find((s) => s.module === 'workflow')!;

/** The old journal's tags in their old order, each with the SQL its owner's journal now holds (the same text). */
const legacy = Object.entries(LEGACY_TAGS)
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([tag, to]) => ({ tag, sql: every.find((s) => s.module === to.module)!.migrations.find((m) => m.tag === to.tag)!.sql }));

/** Migrations the old journal never had (added since, in their owners' journals): an upgraded database gets only these. */
const legacyNames = new Set(Object.values(LEGACY_TAGS).map((t) => `${t.module}/${t.tag}`));
const sinceLegacy = names(every).filter((n) => !legacyNames.has(n));

/** Migrates `db` as Capstan did before issue 8: one bare-tag table, the first `upTo` of the old journal applied. */
async function migrateTheOldWay(db: Database, upTo: number): Promise<void> {
  await db.query('CREATE TABLE kernel_migrations (tag text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  for (const m of legacy.slice(0, upTo)) {
    for (const statement of m.sql.split('--> statement-breakpoint')) if (statement.trim()) await db.query(statement);
    await db.query(`INSERT INTO kernel_migrations (tag, applied_at) VALUES ($1::text, '2026-01-0${upTo}T00:00:00Z')`, [m.tag]);
  }
}

async function recorded(db: Database): Promise<{ name: string; at: string }[]> {
  const rows = await db.query<{ name: string; at: string }>("SELECT module || '/' || tag AS name, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS at FROM kernel_migrations ORDER BY 1");
  return rows;
}

async function tables(db: Database): Promise<string[]> {
  const rows = await db.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1");
  return rows.map((r) => r.t);
}

function suite(adapter: string, open: () => Promise<Database>, multipleInstances: boolean): void {
  describe(`per-owner migrations on ${adapter}`, () => {
    it('applies the kernel first, then only the modules given, each tracked apart; later modules are added on their own', async () => {
      const db = await open();
      expect(await db.migrate([workflow])).toEqual(names([KERNEL_MIGRATIONS, workflow]));
      expect((await tables(db)).filter((t) => t.startsWith('agents_'))).toEqual([]);
      expect(await tables(db)).toContain('workflow_runs');
      const rest = ALL_MODULE_MIGRATIONS.filter((s) => s.module !== 'workflow');
      expect(await db.migrate(ALL_MODULE_MIGRATIONS)).toEqual(names(rest));
      expect(await db.migrate(ALL_MODULE_MIGRATIONS)).toEqual([]);
      expect((await recorded(db)).map((r) => r.name)).toEqual(names(every).sort());
    });

    it('refuses one owner given twice', async () => {
      const db = await open();
      await expect(db.migrate([workflow, workflow])).rejects.toThrow(/'workflow' given twice/);
    });

    it('upgrades a database migrated by the old single journal without re-running anything, keeping rows and dates', async () => {
      const db = await open();
      await migrateTheOldWay(db, legacy.length);
      await db.query("INSERT INTO kernel_outbox (event_id, type, data) VALUES ('kept', 't.x.y', '{}')");
      expect(await db.migrate(ALL_MODULE_MIGRATIONS)).toEqual(sinceLegacy);
      expect((await recorded(db)).filter((r) => legacyNames.has(r.name))).toEqual([...legacyNames].sort().map((name) => ({ name, at: '2026-01-07' })));
      expect(await db.query('SELECT event_id FROM kernel_outbox')).toEqual([{ event_id: 'kept' }]);
      expect(await db.migrate(ALL_MODULE_MIGRATIONS)).toEqual([]);
    });

    it('finishes a database the old journal left part way (before the breeder tables), applying only what is missing', async () => {
      const db = await open();
      await migrateTheOldWay(db, 4);
      const applied = await db.migrate(ALL_MODULE_MIGRATIONS);
      expect(applied.sort()).toEqual(['agents/0000_agents_tables', 'breeder/0000_breeder_tables', 'cascades/0000_cascades_tables', ...sinceLegacy].sort());
      expect((await recorded(db)).filter((r) => r.at === '2026-01-04').map((r) => r.name)).toEqual(['kernel/0000_kernel_outbox', 'kernel/0001_kernel_outbox_subject', 'kernel/0002_kernel_outbox_traceparent', 'workflow/0000_workflow_tables']);
    });

    it.runIf(multipleInstances)('two instances upgrading and migrating at once apply each migration exactly once', async () => {
      const db = await open();
      await migrateTheOldWay(db, 2);
      const other = await createPostgresDatabase({ url: PG_URL, schema: schemas.at(-1)!, max: 2 });
      opened.push(other);
      const results = await Promise.all([db.migrate(ALL_MODULE_MIGRATIONS), other.migrate(ALL_MODULE_MIGRATIONS)]);
      const expected = names(every).filter((n) => !['kernel/0000_kernel_outbox', 'workflow/0000_workflow_tables'].includes(n));
      expect(results.filter((r) => r.length > 0)).toEqual([expected]);
      const counts = await db.query<{ name: string; n: number }>("SELECT module || '/' || tag AS name, count(*)::int AS n FROM kernel_migrations GROUP BY 1 ORDER BY 1");
      expect(counts).toEqual(names(every).sort().map((name) => ({ name, n: 1 })));
    });
  });
}

suite(
  'PostgreSQL',
  async () => {
    const schema = `${filePrefix}_${schemas.length}`;
    schemas.push(schema);
    const db = await createPostgresDatabase({ url: PG_URL, schema, max: 2 });
    opened.push(db);
    return db;
  },
  true,
);

// One PGlite (its start costs seconds of CPU), a fresh schema per test: PGlite has one connection, so search_path holds.
let pglite: Promise<Database> | undefined;
let pgliteSchemas = 0;
suite(
  'PGlite',
  async () => {
    pglite ??= createPgliteDatabase().then((db) => (opened.push(db), db));
    const db = await pglite;
    const schema = `t${pgliteSchemas++}`;
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.query(`SET search_path TO ${schema}`);
    return db;
  },
  false,
);
