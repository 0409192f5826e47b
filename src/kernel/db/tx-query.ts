/** `$1..$n` SQL on a drizzle handle, for code that writes its statements as text (the archive, session data schemas). */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './port.ts';

/** Runs one statement and returns its rows (a transaction handle or the database). */
export type Query = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/**
 * Turns `$1..$n` placeholders into drizzle parameters (drizzle numbers them itself) and runs the statement on `tx`.
 * A failure is the driver's own error (message and SQLSTATE code), not drizzle's "Failed query: ..." wrapper.
 */
export function txQuery(tx: Db): Query {
  return async <T>(text: string, params: unknown[] = []) => {
    const chunks: SQL[] = [];
    let last = 0;
    for (const m of text.matchAll(/\$(\d+)/g)) {
      chunks.push(sql.raw(text.slice(last, m.index)));
      chunks.push(sql`${params[Number(m[1]) - 1]}`);
      last = m.index + m[0].length;
    }
    chunks.push(sql.raw(text.slice(last)));
    let result: unknown;
    try {
      result = await tx.execute(sql.join(chunks));
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw cause instanceof Error ? cause : err;
    }
    // postgres.js answers an array of rows, PGlite an object with `rows`.
    return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
  };
}
