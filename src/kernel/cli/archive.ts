/** `capstan export --to FILE` and `capstan import --from FILE [--replace]`: move a deployment's state between databases. */
import { enabledMigrations } from '../boot/module-migrations.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { KernelConfig } from '../config/schema.ts';
import { createPgliteDatabase } from '../db/pglite-database.ts';
import { lockDataDir } from '../boot/data-dir-lock.ts';
import { createPostgresDatabase } from '../db/postgres-database.ts';
import { pgliteAssets } from '../db/pglite-assets.ts';
import type { Database } from '../db/port.ts';
import { exportArchive } from '../archive/export.ts';
import { importArchive } from '../archive/import.ts';
import type { Module } from '../module.ts';
import { parseFlags, UsageError } from './args.ts';
import { isRunning, pidFilePath, readPidFile } from './pid-file.ts';
import { renderTable } from './table.ts';

const FLAGS = { config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string' } } as const;

/**
 * The database this configuration names: PostgreSQL when DATABASE_URL is set (only the database is needed, not Redis
 * or NATS), else the embedded PGlite folder, which must not be open in a running server (PGlite is one process).
 */
async function openDatabase(cfg: KernelConfig, pidFile: string | undefined, create: boolean): Promise<Database> {
  if (cfg.database.url) return createPostgresDatabase({ url: cfg.database.url });
  const dataDir = resolve(cfg.dataDir);
  if (!existsSync(join(dataDir, 'pglite'))) {
    if (!create) throw new UsageError(`no embedded database in ${dataDir} (give --data-dir, or set DATABASE_URL, REDIS_URL and NATS_URL for PostgreSQL)`);
    mkdirSync(dataDir, { recursive: true });
  }
  const pid = readPidFile(pidFilePath(dataDir, pidFile));
  if (pid !== undefined && isRunning(pid)) throw new UsageError(`the embedded server ${pid} is running on ${dataDir}: stop it first (capstan stop --data-dir ${cfg.dataDir})`);
  // The pid file can name another file (--pid-file); the directory lock cannot be missed.
  const unlock = lockDataDir(dataDir);
  try {
    const db = await createPgliteDatabase({ dataDir: join(dataDir, 'pglite'), wasm: await pgliteAssets() });
    const close = db.close.bind(db);
    return Object.assign(db, { close: () => close().finally(unlock) });
  } catch (err) {
    unlock();
    throw err;
  }
}

/** `capstan export`. */
export async function runExport(argv: string[], modules: readonly Module[], version: string): Promise<number> {
  const { values } = parseFlags(argv, { ...FLAGS, to: { type: 'string' } });
  if (!values.to) throw new UsageError('export needs --to FILE (the archive to write)');
  const cfg = loadConfig(modules, { file: values.config, flags: { dataDir: values['data-dir'] } });
  const db = await openDatabase(cfg, undefined, false);
  try {
    // An embedded folder from an older version is brought to this version's schema first, as serve would.
    await db.migrate(enabledMigrations(modules, cfg));
    const started = performance.now();
    const s = await exportArchive({ db, modules: modules.map((m) => m.name), capstanVersion: version, file: resolve(values.to) });
    const seconds = (performance.now() - started) / 1000;
    console.log(renderTable(s.tables as unknown as Record<string, unknown>[], ['module', 'name', 'rows']));
    console.log(`exported ${s.rows} rows of ${s.tables.length} tables from ${db.kind} to ${s.file} (${s.bytes} bytes, ${seconds.toFixed(2)} s)`);
  } finally {
    await db.close();
  }
  return 0;
}

/** `capstan import`. */
export async function runImport(argv: string[], modules: readonly Module[]): Promise<number> {
  const { values } = parseFlags(argv, { ...FLAGS, from: { type: 'string' }, replace: { type: 'boolean' } });
  if (!values.from) throw new UsageError('import needs --from FILE (an archive written by capstan export)');
  const cfg = loadConfig(modules, { file: values.config, flags: { dataDir: values['data-dir'] } });
  if (!cfg.database.url) console.error(`importing into the embedded database in ${resolve(cfg.dataDir)} (set DATABASE_URL to import into PostgreSQL)`);
  const db = await openDatabase(cfg, undefined, true);
  try {
    await db.migrate(enabledMigrations(modules, cfg));
    const started = performance.now();
    const s = await importArchive({ db, modules: modules.map((m) => m.name), file: resolve(values.from), replace: values.replace });
    const seconds = (performance.now() - started) / 1000;
    console.log(renderTable(s.tables as unknown as Record<string, unknown>[], ['module', 'name', 'rows']));
    console.log(`imported ${s.rows} rows of ${s.tables.length} tables (archive of Capstan ${s.header.capstanVersion}, ${s.header.createdAt}) into ${db.kind} in ${seconds.toFixed(2)} s`);
  } finally {
    await db.close();
  }
  return 0;
}
