/**
 * The archive `capstan export` writes and `capstan import` reads: gzip'd lines, each a one-letter kind, a tab and JSON.
 *   H  the header (ArchiveHeader): format version, Capstan version, the recorded migrations, the tables in load order
 *   T  {"table": name} starts a table's rows
 *   R  one row as PostgreSQL's row_to_json renders it (column name -> JSON value), so no row is parsed on either side
 *   E  the trailer {"rows": {table: count}}: an archive without it was cut short and is refused
 */
import * as z from 'zod';

/** The one format this code writes; an archive of a higher version is refused, one of a lower would be converted here. */
export const ARCHIVE_FORMAT = 'capstan-archive';
export const ARCHIVE_FORMAT_VERSION = 1;

/** A table as archived: where it lives, which module owns it, its columns (for the insert) and serial columns. */
export const archiveTableSchema = z.object({
  schema: z.string().min(1),
  name: z.string().min(1),
  module: z.string().min(1),
  columns: z.array(z.string().min(1)).min(1),
});
export type ArchiveTable = z.infer<typeof archiveTableSchema>;

/** The first line of an archive. */
export const archiveHeaderSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.number().int().positive(),
  capstanVersion: z.string(),
  createdAt: z.string(),
  /** `pglite` (embedded) or `postgres`. */
  source: z.string(),
  /** Every migration recorded in kernel_migrations as `module/tag`, sorted: the schema the rows fit (bare tags before issue 8). */
  migrations: z.array(z.string()),
  /** In load order: a table comes after the tables its foreign keys point to. */
  tables: z.array(archiveTableSchema),
});
export type ArchiveHeader = z.infer<typeof archiveHeaderSchema>;

/** The last line of an archive. */
export const archiveTrailerSchema = z.object({ rows: z.record(z.string(), z.number().int().nonnegative()) });

/** Qualified, quoted name of a table for SQL. */
export function qualified(t: Pick<ArchiveTable, 'schema' | 'name'>): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

/** A SQL identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
