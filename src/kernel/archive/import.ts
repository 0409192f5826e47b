/** Loads an archive (format.ts) into a migrated database in one transaction: all of it or, on any error, nothing. */
import { qualifyLegacyTag } from '../db/legacy-journal.ts';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Database } from '../db/port.ts';
import { Conflict, Invalid } from '../errors.ts';
import { ARCHIVE_FORMAT, ARCHIVE_FORMAT_VERSION, archiveHeaderSchema, archiveTrailerSchema, qualified, quoteIdent, type ArchiveHeader, type ArchiveTable } from './format.ts';
import { discoverTables, recordedMigrations, type Query } from './tables.ts';
import { txQuery } from '../db/tx-query.ts';

/** What an import loaded. */
export interface ImportSummary {
  tables: { name: string; module: string; rows: number }[];
  rows: number;
  header: ArchiveHeader;
}

/** Options for `importArchive`. */
export interface ImportOptions {
  /** The target, already migrated by this Capstan (as `serve` migrates it). */
  db: Database;
  modules: readonly string[];
  file: string;
  /** Empty Capstan's tables first instead of refusing a target that holds data. */
  replace?: boolean;
  /** Rows per INSERT. Default 5,000. */
  batchSize?: number;
}

/** Reads an archive's lines: [kind, json] pairs; a corrupt gzip stream rejects the iteration. */
async function* archiveLines(file: string): AsyncGenerator<[string, string]> {
  const input = createReadStream(file).pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    if (tab !== 1) throw new Invalid(`${file} is not a Capstan archive (a line does not start with a kind and a tab)`);
    yield [line[0]!, line.slice(2)];
  }
}

/** The header of an archive, validated: a Capstan archive of a format version this code reads. */
export async function readArchiveHeader(file: string): Promise<ArchiveHeader> {
  if (!existsSync(file)) throw new Invalid(`archive ${file} does not exist`);
  let first: [string, string] | undefined;
  try {
    for await (const l of archiveLines(file)) {
      first = l;
      break;
    }
  } catch (err) {
    if (err instanceof Invalid) throw err;
    throw new Invalid(`${file} is not a Capstan archive (${(err as Error).message})`);
  }
  if (!first || first[0] !== 'H') throw new Invalid(`${file} is not a Capstan archive (no header line)`);
  let raw: unknown;
  try {
    raw = JSON.parse(first[1]);
  } catch {
    throw new Invalid(`${file} is not a Capstan archive (the header is not JSON)`);
  }
  const format = (raw as { format?: unknown; formatVersion?: unknown }) ?? {};
  if (format.format !== ARCHIVE_FORMAT) throw new Invalid(`${file} is not a Capstan archive (format '${String(format.format)}')`);
  if (typeof format.formatVersion === 'number' && format.formatVersion > ARCHIVE_FORMAT_VERSION) {
    throw new Invalid(`${file} has archive format ${format.formatVersion}; this Capstan reads format ${ARCHIVE_FORMAT_VERSION} and older: import it with the Capstan version that wrote it or a newer one`);
  }
  const parsed = archiveHeaderSchema.safeParse(raw);
  if (!parsed.success) throw new Invalid(`${file}: invalid archive header: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Refuses an archive whose schema differs from the target's: both must have recorded exactly the same migrations
 * (rows of another schema version cannot be loaded faithfully). The message says which side is newer and what to do.
 */
export function checkVersions(header: ArchiveHeader, target: readonly string[]): void {
  // An archive written before each owner had its own journal lists the old bare tags: name them as the target does.
  const recorded = header.migrations.map(qualifyLegacyTag);
  const archived = new Set(recorded);
  const here = new Set(target);
  const onlyArchive = recorded.filter((m) => !here.has(m));
  const onlyTarget = target.filter((m) => !archived.has(m));
  if (onlyArchive.length === 0 && onlyTarget.length === 0) return;
  const parts = [`the archive was written by Capstan ${header.capstanVersion} at a different schema version than this database`];
  if (onlyArchive.length > 0) parts.push(`migrations in the archive that this Capstan does not have: ${onlyArchive.join(', ')} (enable the modules they belong to here, or upgrade this Capstan to the exporting version or newer)`);
  if (onlyTarget.length > 0) parts.push(`migrations this Capstan applied that the archive lacks: ${onlyTarget.join(', ')} (start the exporting side once with this Capstan version and the same modules enabled so it migrates, then export again)`);
  throw new Conflict(parts.join('; '));
}

/** Loads the archive; throws (and loads nothing) on a version mismatch, a non-empty target without `replace`, or a cut-short archive. */
export async function importArchive(o: ImportOptions): Promise<ImportSummary> {
  const header = await readArchiveHeader(o.file);
  checkVersions(header, await recordedMigrations((t, p) => o.db.query(t, p)));
  const counts = await o.db.transaction(
    async (tx) => {
      const q = txQuery(tx);
      const present = await discoverTables(q, o.modules);
      const key = (t: Pick<ArchiveTable, 'schema' | 'name'>) => `${t.schema}.${t.name}`;
      const targetByKey = new Map(present.map((t) => [key(t), t]));
      const missing = header.tables.filter((t) => !targetByKey.has(key(t)));
      if (missing.length > 0) throw new Conflict(`the target has no table ${missing.map(key).join(', ')} (is the module that owns it registered in this Capstan?)`);
      if (o.replace) {
        await q(`TRUNCATE ${present.map(qualified).join(', ')} RESTART IDENTITY`);
      } else {
        const full: string[] = [];
        for (const t of present) if ((await q(`SELECT 1 FROM ${qualified(t)} LIMIT 1`)).length > 0) full.push(key(t));
        if (full.length > 0) throw new Conflict(`the target database already holds data (${full.join(', ')}); import into an empty deployment, or pass --replace to delete what is there first`);
      }
      return loadRows(q, header, o.file, o.batchSize ?? 5_000);
    },
    { attempts: 1 },
  );
  const tables = header.tables.map((t) => ({ name: t.name, module: t.module, rows: counts[`${t.schema}.${t.name}`] ?? 0 }));
  return { header, tables, rows: tables.reduce((n, t) => n + t.rows, 0) };
}

/** Streams the rows into their tables in batches, then moves every serial sequence past the loaded ids. */
async function loadRows(q: Query, header: ArchiveHeader, file: string, batchSize: number): Promise<Record<string, number>> {
  const byKey = new Map(header.tables.map((t) => [`${t.schema}.${t.name}`, t]));
  const loaded: Record<string, number> = {};
  let table: ArchiveTable | undefined;
  let batch: string[] = [];
  let bytes = 0;
  let trailer: Record<string, number> | undefined;
  const flush = async () => {
    if (!table || batch.length === 0) return;
    const cols = table.columns.map(quoteIdent).join(', ');
    // json_populate_recordset converts every JSON value back to its column's type (timestamps, jsonb, arrays, bytea).
    await q(`INSERT INTO ${qualified(table)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM json_populate_recordset(NULL::${qualified(table)}, $1::json)`, [`[${batch.join(',')}]`]);
    loaded[`${table.schema}.${table.name}`] = (loaded[`${table.schema}.${table.name}`] ?? 0) + batch.length;
    batch = [];
    bytes = 0;
  };
  let first = true;
  for await (const [kind, json] of archiveLines(file)) {
    if (first) {
      first = false;
      continue; // the header, read already
    }
    if (trailer) throw new Invalid(`${file}: data after the end marker`);
    if (kind === 'R') {
      if (!table) throw new Invalid(`${file}: a row before any table`);
      batch.push(json);
      bytes += json.length;
      if (batch.length >= batchSize || bytes > 8 * 1024 * 1024) await flush();
    } else if (kind === 'T') {
      await flush();
      const { table: name, schema } = JSON.parse(json) as { table: string; schema: string };
      table = byKey.get(`${schema}.${name}`);
      if (!table) throw new Invalid(`${file}: rows of ${schema}.${name}, which the header does not list`);
      loaded[`${schema}.${name}`] ??= 0;
    } else if (kind === 'E') {
      await flush();
      trailer = archiveTrailerSchema.parse(JSON.parse(json)).rows;
    } else {
      throw new Invalid(`${file}: unknown line kind '${kind}'`);
    }
  }
  if (!trailer) throw new Invalid(`${file} is cut short (no end marker): nothing was imported`);
  for (const [t, n] of Object.entries(trailer)) {
    if ((loaded[t] ?? 0) !== n) throw new Invalid(`${file}: ${t} should have ${n} rows, the archive holds ${loaded[t] ?? 0}: nothing was imported`);
  }
  await resetSequences(q, header.tables);
  return loaded;
}

/** Sets each column-owned sequence (bigserial, identity) to the column's maximum, so new rows get fresh ids. */
async function resetSequences(q: Query, tables: readonly ArchiveTable[]): Promise<void> {
  for (const t of tables) {
    for (const col of t.columns) {
      const [seq] = await q<{ s: string | null }>('SELECT pg_get_serial_sequence($1::text, $2::text) AS s', [qualified(t), col]);
      if (!seq?.s) continue;
      await q(`SELECT setval($1::regclass, COALESCE((SELECT max(${quoteIdent(col)}) FROM ${qualified(t)}), 0) + 1, false)`, [seq.s]);
    }
  }
}
