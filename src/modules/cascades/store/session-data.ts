/**
 * Per-session data for data phases: one PostgreSQL schema per session (in the module's database; PGlite in embedded
 * mode) and one NOLOGIN role that may use only that schema. Every statement a session's SQL makes runs in a
 * transaction with `SET LOCAL ROLE` to that role and `search_path` set to the schema, so PostgreSQL itself refuses
 * any other table; the lexical check (model/sql-guard.ts) refuses what a role cannot stop (changing the role back,
 * SQL hidden in strings). Result tables are named `_<phase>`. The sweeper drops schema and role after a TTL.
 */
import { createHash } from 'node:crypto';
import { Invalid, json, pgError, txQuery, type Database, type Db } from '../../../kernel/index.ts';
import { refuseSessionSql } from '../model/sql-guard.ts';

/** A table read back: its first rows and how many it has. */
export interface TableRows {
  rows: Record<string, unknown>[];
  count: number;
}

/** Runs `$1..$n` SQL on a transaction handle; the database's own error (message and code) on failure. */
function run<T = Record<string, unknown>>(tx: Db, text: string, params: unknown[] = []): Promise<T[]> {
  return txQuery(tx)<T>(text, params);
}

/** A quoted identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A column type for JSON values: the narrowest that holds every non-null one. */
function columnType(values: unknown[]): string {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return 'text';
  if (present.every((v) => typeof v === 'boolean')) return 'boolean';
  if (present.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) return 'bigint';
  if (present.every((v) => typeof v === 'number')) return 'double precision';
  if (present.every((v) => typeof v === 'string')) return 'text';
  return 'jsonb';
}

/** Rows of a phase output: a list of objects as is, one object as one row, anything else as a `value` column. */
export function rowsOf(output: unknown): Record<string, unknown>[] {
  const list = Array.isArray(output) ? output : [output];
  return list.map((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v }));
}

/** Columns a table of `rows` gets (keys in first-seen order, at most 200, each at most 63 characters). */
function columnsOf(rows: Record<string, unknown>[]): { name: string; type: string }[] {
  const names: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!names.includes(k) && k.length <= 63 && names.length < 200) names.push(k);
  if (names.length === 0) names.push('value');
  return names.map((name) => ({ name, type: columnType(rows.map((r) => r[name])) }));
}

/** The data store. Stateless apart from the database handle. */
export class SessionDataStore {
  constructor(
    private readonly db: Database,
    /** Longest a session's statement may run (statement_timeout). */
    private readonly statementTimeoutMs = 10_000,
  ) {}

  /** Schema and role names of a session (a hash, so any session id fits PostgreSQL's 63-character names). */
  static names(sessionId: string): { schema: string; role: string } {
    const h = createHash('sha256').update(sessionId).digest('hex').slice(0, 24);
    return { schema: `cascade_data_${h}`, role: `cascade_data_${h}_r` };
  }

  /** Creates the session's schema and role (idempotent) and records them for the TTL cleanup. */
  async ensure(sessionId: string): Promise<void> {
    const { schema, role } = SessionDataStore.names(sessionId);
    await this.db.transaction(async (tx) => {
      const known = await run(tx, 'SELECT 1 FROM cascades_data_schemas WHERE session_id = $1::text', [sessionId]);
      if (known.length > 0) return;
      await run(tx, `CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
      const roles = await run(tx, 'SELECT 1 FROM pg_roles WHERE rolname = $1::text', [role]);
      if (roles.length === 0) {
        await run(tx, `CREATE ROLE ${ident(role)} NOLOGIN`).catch((err: unknown) => {
          // 42501 insufficient_privilege: the deployment's database user was not given CREATEROLE.
          if (pgError(err)?.code !== '42501') throw err;
          throw new Error("the database user may not create roles: cascades' data phases (sql, for_each_row, the sql tool) need CREATEROLE (ALTER ROLE <user> CREATEROLE; see docs/deploy.md)", { cause: err });
        });
      }
      // SET ROLE needs membership: a superuser has it anyway; a CREATEROLE user on PostgreSQL 15 does not get it by creating the role.
      await run(tx, `GRANT ${ident(role)} TO CURRENT_USER`);
      await run(tx, `GRANT USAGE, CREATE ON SCHEMA ${ident(schema)} TO ${ident(role)}`);
      await run(tx, 'INSERT INTO cascades_data_schemas (session_id, schema_name, role_name) VALUES ($1::text, $2::text, $3::text) ON CONFLICT (session_id) DO NOTHING', [sessionId, schema, role]);
    });
  }

  /** Runs `fn` in a transaction as the session's role, with its schema as the only search path. */
  private asSession<T>(sessionId: string, fn: (tx: Db) => Promise<T>, readOnly = false): Promise<T> {
    const { schema, role } = SessionDataStore.names(sessionId);
    return this.db.transaction(async (tx) => {
      if (readOnly) await run(tx, 'SET TRANSACTION READ ONLY');
      await run(tx, `SET LOCAL search_path TO ${ident(schema)}`);
      await run(tx, `SET LOCAL statement_timeout = ${Math.floor(this.statementTimeoutMs)}`);
      await run(tx, `SET LOCAL ROLE ${ident(role)}`);
      return fn(tx);
    }, { attempts: 1 });
  }

  /**
   * Reads `limit` rows of `table` from `offset` and its row count (inside a session transaction). Rows come in
   * physical order (ctid): result tables are written once and never updated, so row i is the same row on every read.
   */
  private async read(tx: Db, table: string, limit: number, offset = 0): Promise<TableRows> {
    const r = await run<{ n: number; rows: unknown }>(
      tx,
      `SELECT (SELECT count(*) FROM ${ident(table)})::int AS n,
        (SELECT coalesce(jsonb_agg(to_jsonb(t) - 'ctid' ORDER BY t.ctid), '[]'::jsonb) FROM (SELECT ctid, * FROM ${ident(table)} ORDER BY ctid LIMIT $1::int OFFSET $2::int) t) AS rows`,
      [limit, offset],
    );
    return { count: Number(r[0]!.n), rows: json<Record<string, unknown>[]>(r[0]!.rows) };
  }

  /** Replaces table `table` with `rows` (columns and types from the values). */
  async writeRows(sessionId: string, table: string, rows: Record<string, unknown>[]): Promise<void> {
    await this.writeTables(sessionId, [{ table, rows }]);
  }

  /** Replaces several tables in one transaction (earlier phases' outputs before a query). */
  async writeTables(sessionId: string, tables: { table: string; rows: Record<string, unknown>[] }[]): Promise<void> {
    if (tables.length === 0) return;
    await this.asSession(sessionId, async (tx) => {
      for (const { table, rows } of tables) {
        const cols = columnsOf(rows);
        await run(tx, `DROP TABLE IF EXISTS ${ident(table)}`);
        await run(tx, `CREATE TABLE ${ident(table)} (${cols.map((c) => `${ident(c.name)} ${c.type}`).join(', ')})`);
        if (rows.length > 0) await run(tx, `INSERT INTO ${ident(table)} SELECT * FROM jsonb_populate_recordset(NULL::${ident(table)}, ($1::text)::jsonb)`, [JSON.stringify(rows)]);
      }
    });
  }

  /**
   * A sql phase: checks `query`, then replaces table `table` with its result in one transaction (so a phase re-run
   * after a crash gives the same table); returns the first `limit` rows and the count.
   */
  async createTableAs(sessionId: string, table: string, query: string, limit: number): Promise<TableRows> {
    const q = checked(query);
    return this.asSession(sessionId, async (tx) => {
      await run(tx, `DROP TABLE IF EXISTS ${ident(table)}`);
      await run(tx, `CREATE TABLE ${ident(table)} AS ${q}`);
      return this.read(tx, table, limit);
    });
  }

  /**
   * The sql tool: runs `query` read-only; the first `limit` rows and whether there were more. A newline after the
   * query ends a trailing -- comment. When `signal` aborts while the query runs, the query is cancelled on the server
   * (pg_cancel_backend of the transaction's backend, from another connection) and this rejects with its error;
   * PGlite runs in this process and cannot be interrupted, so there the query runs to its end or timeout.
   */
  async query(sessionId: string, query: string, limit: number, signal?: AbortSignal): Promise<{ rows: Record<string, unknown>[]; truncated: boolean }> {
    const q = checked(query);
    signal?.throwIfAborted();
    return this.asSession(
      sessionId,
      async (tx) => {
        const cancelable = signal && this.db.kind === 'postgres';
        const pid = cancelable ? Number((await run<{ pid: number }>(tx, 'SELECT pg_backend_pid() AS pid'))[0]!.pid) : 0;
        let running = true;
        const cancel = () => {
          // Only while the query runs: afterwards the backend may already serve another statement of the pool.
          if (running) this.db.query('SELECT pg_cancel_backend($1::int)', [pid]).catch(() => undefined);
        };
        if (cancelable) signal.addEventListener('abort', cancel, { once: true });
        try {
          if (cancelable && signal.aborted) throw signal.reason;
          const r = await run<{ rows: unknown }>(tx, `SELECT coalesce(jsonb_agg(t), '[]'::jsonb) AS rows FROM (SELECT * FROM (${q}\n) q LIMIT $1::int) t`, [limit + 1]);
          const rows = json<Record<string, unknown>[]>(r[0]!.rows);
          return { rows: rows.slice(0, limit), truncated: rows.length > limit };
        } finally {
          running = false;
          signal?.removeEventListener('abort', cancel);
        }
      },
      true,
    );
  }

  /** Reads `limit` rows of a table from `offset` (for_each_row) and its count; undefined when it does not exist. */
  async readTable(sessionId: string, table: string, limit: number, offset = 0): Promise<TableRows | undefined> {
    return this.asSession(
      sessionId,
      async (tx) => {
        const exists = await run<{ t: string | null }>(tx, 'SELECT to_regclass($1::text)::text AS t', [ident(table)]);
        if (!exists[0]?.t) return undefined;
        return this.read(tx, table, limit, offset);
      },
      true,
    );
  }

  /**
   * Drops the schemas (and roles) of sessions that ended more than `ttlMs` ago or no longer exist, up to `limit`;
   * returns how many went. Each drop is its own transaction, so one failure leaves the others done.
   */
  async dropExpired(ttlMs: number, limit = 50): Promise<number> {
    const due = await this.db.query<{ session_id: string; schema_name: string; role_name: string }>(
      `SELECT d.session_id, d.schema_name, d.role_name FROM cascades_data_schemas d LEFT JOIN cascades_sessions s ON s.id = d.session_id
       WHERE s.id IS NULL OR (s.finished_at IS NOT NULL AND s.finished_at < now() - $1::int * interval '1 millisecond') ORDER BY d.created_at LIMIT $2::int`,
      [ttlMs, limit],
    );
    for (const d of due) {
      await this.db.transaction(async (tx) => {
        await run(tx, `DROP SCHEMA IF EXISTS ${ident(d.schema_name)} CASCADE`);
        await run(tx, `DROP ROLE IF EXISTS ${ident(d.role_name)}`);
        await run(tx, 'DELETE FROM cascades_data_schemas WHERE session_id = $1::text', [d.session_id]);
      });
    }
    return due.length;
  }

  /** Whether the session's schema exists (tests and the API read this). */
  async exists(sessionId: string): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1::text', [SessionDataStore.names(sessionId).schema]);
    return rows.length > 0;
  }
}

/** The query with a trailing ; removed, or Invalid naming `sql` with the guard's reason. */
function checked(query: string): string {
  const reason = refuseSessionSql(query);
  if (reason) throw new Invalid(`sql refused: ${reason}`, [{ path: 'sql', message: reason }]);
  return query.trim().replace(/;\s*$/, '');
}
