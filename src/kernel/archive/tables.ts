/**
 * Which tables hold Capstan's state, found in the database itself so a module added later is archived without a change
 * here: every base table of the current schema named `kernel_*` or `<module>_*`, and every table of a schema named
 * after a module (for modules that keep their tables in a schema of their own). kernel_migrations is the version, not
 * state: the header records it instead.
 */
import type { Database } from '../db/port.ts';
import type { Query } from '../db/tx-query.ts';
import type { ArchiveTable } from './format.ts';

export type { Query };

/** A SQL string literal (array parameters are not carried the same way by both drivers, so the list is inlined). */
function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

const NOT_STATE = new Set(['kernel_migrations']);

/** The module owning `table` in `schema`, or undefined when the table is not Capstan's. */
export function ownerOf(schema: string, table: string, currentSchema: string, modules: readonly string[]): string | undefined {
  if (schema !== currentSchema) return modules.includes(schema) ? schema : undefined;
  if (NOT_STATE.has(table)) return undefined;
  const prefix = table.split('_')[0]!;
  return prefix === 'kernel' || modules.includes(prefix) ? prefix : undefined;
}

/** Capstan's tables in load order (referenced tables first), with their insertable columns. */
export async function discoverTables(q: Query, modules: readonly string[]): Promise<ArchiveTable[]> {
  const [{ current }] = (await q<{ current: string }>('SELECT current_schema() AS current')) as [{ current: string }];
  const rows = await q<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema IN (${[current, ...modules].map(literal).join(', ')}) ORDER BY 1, 2`,
  );
  const tables: ArchiveTable[] = [];
  for (const r of rows) {
    const module = ownerOf(r.schema, r.name, current, modules);
    if (!module) continue;
    // Generated columns are computed by the target; every other column is carried.
    const cols = await q<{ name: string }>(
      `SELECT column_name AS name FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = $2 AND is_generated = 'NEVER' ORDER BY ordinal_position`,
      [r.schema, r.name],
    );
    tables.push({ schema: r.schema, name: r.name, module, columns: cols.map((c) => c.name) });
  }
  return loadOrder(tables, await foreignKeys(q));
}

/** Pairs (table, referenced table) as `schema.name`, from the catalog. */
async function foreignKeys(q: Query): Promise<[string, string][]> {
  const rows = await q<{ child: string; parent: string }>(
    `SELECT cn.nspname || '.' || c.relname AS child, pn.nspname || '.' || p.relname AS parent
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
     JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE k.contype = 'f'`,
  );
  return rows.map((r) => [r.child, r.parent]);
}

/** Orders tables so each comes after those it references (stable otherwise); a cycle keeps the remaining order. */
export function loadOrder(tables: ArchiveTable[], fks: readonly [string, string][]): ArchiveTable[] {
  const key = (t: ArchiveTable) => `${t.schema}.${t.name}`;
  const pending = new Map(tables.map((t) => [key(t), t]));
  const out: ArchiveTable[] = [];
  while (pending.size > 0) {
    const ready = [...pending.values()].filter((t) => !fks.some(([child, parent]) => child === key(t) && parent !== child && pending.has(parent)));
    const batch = ready.length > 0 ? ready : [...pending.values()];
    for (const t of batch) {
      out.push(t);
      pending.delete(key(t));
    }
  }
  return out;
}

/** The recorded migrations as `module/tag` (each owner's journal is tracked on its own), sorted. */
export async function recordedMigrations(q: Query): Promise<string[]> {
  const rows = await q<{ tag: string }>("SELECT module || '/' || tag AS tag FROM kernel_migrations ORDER BY 1");
  return rows.map((r) => r.tag);
}

/** Primary key columns of a table, in key order (empty when it has none). */
export async function primaryKey(q: Query, t: Pick<ArchiveTable, 'schema' | 'name'>): Promise<{ name: string; type: string }[]> {
  return q<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
     WHERE i.indisprimary AND n.nspname = $1 AND c.relname = $2 ORDER BY k.ord`,
    [t.schema, t.name],
  );
}

/** A Query over `db` outside any transaction. */
export function queryOf(db: Database): Query {
  return (text, params) => db.query(text, params);
}
