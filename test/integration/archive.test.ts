/**
 * The export/import archive against real PostgreSQL: tables are found by module prefix (a module added later is
 * carried without code changes, another application's table is not), foreign keys load in order, sequences move
 * past imported ids, and a cut-short archive, a foreign file or another schema version load nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exportArchive } from '../../src/kernel/archive/export.ts';
import { checkVersions, importArchive, readArchiveHeader } from '../../src/kernel/archive/import.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import type { ArchiveHeader } from '../../src/kernel/archive/format.ts';
import { rejection } from '../helpers/async.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { tempDir } from '../helpers/server-process.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';

const MODULES = ['workflow', 'zeta'];
const dir = tempDir('capstan-archive-');
let source: { url: string; drop(): Promise<void> };
let target: { url: string; drop(): Promise<void> };
let a: Database;
let b: Database;

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase('arch_src'), createTestDatabase('arch_dst')]);
  [a, b] = await Promise.all([createPostgresDatabase({ url: source.url }), createPostgresDatabase({ url: target.url })]);
  for (const db of [a, b]) {
    await db.migrate(ALL_MODULE_MIGRATIONS);
    // A module that did not exist when the archive code was written, with a parent/child pair that sorts child first.
    await db.query('CREATE TABLE zeta_items (id bigserial PRIMARY KEY, name text NOT NULL, tags text[], blob bytea, at timestamptz(3))');
    await db.query('CREATE TABLE zeta_children (id bigserial PRIMARY KEY, item_id bigint NOT NULL REFERENCES zeta_items(id), note jsonb)');
    await db.query('CREATE TABLE other_app_table (id int PRIMARY KEY)');
  }
  await a.query("INSERT INTO zeta_items (name, tags, blob, at) SELECT 'item ' || g, ARRAY['a', 'b''c'], '\\x00ff'::bytea, '2024-05-01T12:00:00.123Z' FROM generate_series(1, 1200) g");
  await a.query(`INSERT INTO zeta_children (item_id, note) SELECT g, jsonb_build_object('n', g, 'nested', jsonb_build_array(1, 'two', null)) FROM generate_series(1, 1200) g`);
  await a.query("INSERT INTO kernel_outbox (event_id, type, data) VALUES ('e1', 'zeta.item.created', '{\"id\": 1}')");
  await a.query('INSERT INTO other_app_table VALUES (1)');
}, 180_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await source?.drop();
  await target?.drop();
});

const dump = async (db: Database, table: string) => db.query(`SELECT row_to_json(t)::text AS j FROM ${table} t ORDER BY id`);

it('carries every table of the kernel and of each module (found by prefix), in foreign-key order, and only those', async () => {
  const file = join(dir, 'a.capstan');
  const out = await exportArchive({ db: a, modules: MODULES, capstanVersion: 'test', file, batchSize: 500 });
  expect(out.tables.map((t) => t.name)).toContain('zeta_children');
  expect(out.tables.map((t) => t.name)).not.toContain('other_app_table');
  expect(out.tables.map((t) => t.name)).not.toContain('kernel_migrations');
  const names = out.tables.map((t) => t.name);
  expect(names.indexOf('zeta_items')).toBeLessThan(names.indexOf('zeta_children'));
  expect(out.tables.find((t) => t.name === 'zeta_items')?.rows).toBe(1200);

  const loaded = await importArchive({ db: b, modules: MODULES, file, batchSize: 500 });
  expect(loaded.rows).toBe(out.rows);
  for (const t of ['zeta_items', 'zeta_children', 'kernel_outbox']) expect(await dump(b, t), t).toEqual(await dump(a, t));
  expect(await b.query('SELECT count(*)::int AS n FROM other_app_table')).toEqual([{ n: 0 }]);
  // The next id continues after the imported ones.
  expect(await b.query("INSERT INTO zeta_items (name) VALUES ('new') RETURNING id::int AS id")).toEqual([{ id: 1201 }]);
}, 60_000);

it('refuses a non-empty target unless told to replace, and replaces in full when told', async () => {
  const file = join(dir, 'a.capstan');
  const err = (await rejection(importArchive({ db: b, modules: MODULES, file }))) as Error;
  expect(err.message).toContain('already holds data');
  await importArchive({ db: b, modules: MODULES, file, replace: true });
  expect(await b.query('SELECT count(*)::int AS n FROM zeta_items')).toEqual([{ n: 1200 }]);
}, 60_000);

it('loads nothing from a cut-short archive, a file that is not an archive, or an archive of another schema version', async () => {
  const file = join(dir, 'a.capstan');
  const lines = gunzipSync(readFileSync(file)).toString().split('\n');
  const cut = join(dir, 'cut.capstan');
  writeFileSync(cut, gzipSync(lines.slice(0, Math.floor(lines.length / 2)).join('\n')));
  await b.query('TRUNCATE zeta_children, zeta_items, kernel_outbox');
  expect(((await rejection(importArchive({ db: b, modules: MODULES, file: cut }))) as Error).message).toContain('cut short');
  expect(await b.query('SELECT count(*)::int AS n FROM zeta_items')).toEqual([{ n: 0 }]);

  const foreign = join(dir, 'foreign.capstan');
  writeFileSync(foreign, gzipSync('{"hello": "world"}\n'));
  expect(((await rejection(readArchiveHeader(foreign))) as Error).message).toContain('is not a Capstan archive');
  writeFileSync(foreign, 'plain text');
  expect(((await rejection(readArchiveHeader(foreign))) as Error).message).toContain('is not a Capstan archive');

  const header = JSON.parse(lines[0]!.slice(2));
  const newer = join(dir, 'newer.capstan');
  writeFileSync(newer, gzipSync([`H\t${JSON.stringify({ ...header, migrations: [...header.migrations, 'zeta/0001_more'] })}`, ...lines.slice(1)].join('\n')));
  const mismatch = (await rejection(importArchive({ db: b, modules: MODULES, file: newer }))) as Error;
  expect(mismatch.message).toContain('zeta/0001_more');
  expect(mismatch.message).toContain('upgrade this Capstan');
  const future = join(dir, 'future.capstan');
  writeFileSync(future, gzipSync([`H\t${JSON.stringify({ ...header, formatVersion: 99 })}`, ...lines.slice(1)].join('\n')));
  expect(((await rejection(readArchiveHeader(future))) as Error).message).toContain('archive format 99');
  expect(await b.query('SELECT count(*)::int AS n FROM zeta_items')).toEqual([{ n: 0 }]);
}, 60_000);

it('names the side that is behind when migrations differ', () => {
  const header: ArchiveHeader = { format: 'capstan-archive', formatVersion: 1, capstanVersion: '0.1.0', createdAt: '', source: 'pglite', migrations: ['a', 'b'], tables: [] };
  expect(() => checkVersions({ ...header, migrations: ['a', 'b'] }, ['b', 'a'])).not.toThrow();
  expect(() => checkVersions({ ...header, migrations: ['a'] }, ['a', 'b'])).toThrow(/this Capstan applied that the archive lacks: b/);
  expect(() => checkVersions({ ...header, migrations: ['a', 'b', 'c'] }, ['a', 'b'])).toThrow(/archive that this Capstan does not have: c/);
  // An archive from before per-owner journals lists bare tags; they name the same migrations.
  expect(() => checkVersions({ ...header, migrations: ['0000_kernel_outbox', '0001_workflow_tables'] }, ['kernel/0000_kernel_outbox', 'workflow/0000_workflow_tables'])).not.toThrow();
});
