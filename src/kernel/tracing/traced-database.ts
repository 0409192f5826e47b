/**
 * Database spans: one client span per statement, whether it goes through the port's `query` or through drizzle's
 * query builder, and one span per transaction around its statements. Only installed while tracing is on.
 */
import { PglitePreparedQuery } from 'drizzle-orm/pglite/session';
import { PostgresJsPreparedQuery } from 'drizzle-orm/postgres-js/session';
import type { Database, Db, TransactionOptions } from '../db/port.ts';
import { withSpan } from './spans.ts';

/** Statement text is cut here: spans are for finding the slow statement, not for storing batches of SQL. */
const MAX_STATEMENT = 2_000;

function statementSpan<T>(system: string, text: string, run: () => Promise<T>): Promise<T> {
  const op = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
  return withSpan(`db ${op}`, { kind: 'client', attributes: { 'db.system.name': system, 'db.operation.name': op, 'db.query.text': text.slice(0, MAX_STATEMENT) } }, run);
}

let drizzlePatched = false;

/**
 * drizzle has no statement hook (its own tracer is never loaded), so the `execute` and `all` of both drivers' prepared
 * queries, which every builder statement ends in, are wrapped once per process. Parameters are not recorded: they may
 * hold user data.
 */
function traceDrizzleStatements(): void {
  if (drizzlePatched) return;
  drizzlePatched = true;
  for (const [cls, system] of [
    [PostgresJsPreparedQuery, 'postgresql'],
    [PglitePreparedQuery, 'pglite'],
  ] as const) {
    const proto = cls.prototype as unknown as Record<'execute' | 'all', (this: { queryString?: string; rawQueryConfig?: { sql?: string } }, ...args: unknown[]) => Promise<unknown>>;
    for (const method of ['execute', 'all'] as const) {
      const original = proto[method];
      proto[method] = function (this: { queryString?: string; rawQueryConfig?: { sql?: string } }, ...args: unknown[]) {
        const text = this.queryString ?? this.rawQueryConfig?.sql ?? '';
        return statementSpan(system, text, () => original.apply(this, args));
      };
    }
  }
}

/** Wraps `inner`: statement spans for `query` and the query builder, a span per transaction. */
export function tracedDatabase(inner: Database): Database {
  traceDrizzleStatements();
  const system = inner.kind === 'postgres' ? 'postgresql' : 'pglite';
  return {
    kind: inner.kind,
    db: inner.db,
    readDb: inner.readDb,
    query: <T>(text: string, params?: unknown[]) => statementSpan(system, text, () => inner.query<T>(text, params)),
    listen: (channel, onNotify) => inner.listen(channel, onNotify),
    transaction: <T>(fn: (tx: Db) => Promise<T>, opts?: TransactionOptions) => withSpan('db transaction', { kind: 'internal', attributes: { 'db.system.name': system } }, () => inner.transaction(fn, opts)),
    migrate: (modules) => inner.migrate(modules),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}
