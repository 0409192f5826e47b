/** A `Query` over a drizzle transaction handle, so the archive reads one snapshot and loads in one transaction. */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/port.ts';
import type { Query } from './tables.ts';

/** Turns `$1..$n` placeholders into drizzle parameters (drizzle numbers them itself) and runs the statement on `tx`. */
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
    const result = (await tx.execute(sql.join(chunks))) as unknown;
    // postgres.js answers an array of rows, PGlite an object with `rows`.
    return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
  };
}
