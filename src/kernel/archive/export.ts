/** Writes every Capstan table of a database to one archive (format.ts), from one consistent snapshot. */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Database } from '../db/port.ts';
import { ARCHIVE_FORMAT, ARCHIVE_FORMAT_VERSION, qualified, quoteIdent, type ArchiveHeader } from './format.ts';
import { discoverTables, primaryKey, recordedMigrations, type Query } from './tables.ts';
import { txQuery } from '../db/tx-query.ts';

/** What an export wrote. */
export interface ExportSummary {
  file: string;
  tables: { name: string; module: string; rows: number }[];
  rows: number;
  bytes: number;
  migrations: string[];
}

/** Options for `exportArchive`. */
export interface ExportOptions {
  db: Database;
  /** Names of the registered modules: their tables (by prefix or schema) are archived, with the kernel's. */
  modules: readonly string[];
  capstanVersion: string;
  file: string;
  /** Rows per read. Default 5,000. */
  batchSize?: number;
}

/**
 * Exports inside one read-only REPEATABLE READ transaction, so the archive is one point in time even while servers
 * write (PostgreSQL). Writes FILE.partial and renames it at the end: a failed export leaves no archive behind.
 */
export async function exportArchive(o: ExportOptions): Promise<ExportSummary> {
  const partial = `${o.file}.partial`;
  const gzip = createGzip({ level: 6 });
  const out = createWriteStream(partial);
  gzip.pipe(out);
  const write = async (kind: string, json: string) => {
    if (!gzip.write(`${kind}\t${json}\n`)) await once(gzip, 'drain');
  };
  try {
    const summary = await o.db.transaction(
      async (tx) => {
        const q = txQuery(tx);
        if (o.db.kind === 'postgres') await q('SET TRANSACTION READ ONLY');
        const migrations = await recordedMigrations(q);
        const tables = await discoverTables(q, o.modules);
        const header: ArchiveHeader = { format: ARCHIVE_FORMAT, formatVersion: ARCHIVE_FORMAT_VERSION, capstanVersion: o.capstanVersion, createdAt: new Date().toISOString(), source: o.db.kind, migrations, tables };
        await write('H', JSON.stringify(header));
        const counts: Record<string, number> = {};
        for (const t of tables) {
          await write('T', JSON.stringify({ table: t.name, schema: t.schema }));
          counts[`${t.schema}.${t.name}`] = await exportRows(q, t, write, o.batchSize ?? 5_000);
        }
        await write('E', JSON.stringify({ rows: counts }));
        return { migrations, tables: tables.map((t) => ({ name: t.name, module: t.module, rows: counts[`${t.schema}.${t.name}`]! })) };
      },
      { isolationLevel: 'repeatable read', attempts: 1 },
    );
    gzip.end();
    await once(out, 'close');
    renameSync(partial, o.file);
    return { file: o.file, ...summary, rows: summary.tables.reduce((n, t) => n + t.rows, 0), bytes: out.bytesWritten };
  } catch (err) {
    gzip.destroy();
    out.destroy();
    rmSync(partial, { force: true });
    throw err;
  }
}

/** Streams one table's rows in primary-key order, a batch at a time (keyset paging); returns the count. */
async function exportRows(q: Query, t: ArchiveHeader['tables'][number], write: (kind: string, json: string) => Promise<void>, batchSize: number): Promise<number> {
  const pk = await primaryKey(q, t);
  const from = `${qualified(t)} AS t`;
  if (pk.length === 0) {
    // No key to page on: one read (module tables have keys; this keeps a key-less table correct, not fast).
    const rows = await q<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM ${from}`);
    for (const r of rows) await write('R', r.j);
    return rows.length;
  }
  const keys = pk.map((c, i) => `t.${quoteIdent(c.name)}::text AS k${i}`).join(', ');
  const order = pk.map((c) => `t.${quoteIdent(c.name)}`).join(', ');
  const after = `(${order}) > (${pk.map((c, i) => `$${i + 2}::${c.type}`).join(', ')})`;
  let last: string[] | undefined;
  let n = 0;
  for (;;) {
    const rows = await q<Record<string, string>>(
      `SELECT row_to_json(t)::text AS j, ${keys} FROM ${from} ${last ? `WHERE ${after}` : ''} ORDER BY ${order} LIMIT $1::int`,
      last ? [batchSize, ...last] : [batchSize],
    );
    for (const r of rows) await write('R', r.j!);
    n += rows.length;
    if (rows.length < batchSize) return n;
    const end = rows[rows.length - 1]!;
    last = pk.map((_, i) => end[`k${i}`]!);
  }
}
