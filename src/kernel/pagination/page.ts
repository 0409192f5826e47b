/** The page size rule (1..1000, default 100) written once, and the "one extra row" page cut. */
import * as z from 'zod';
import { Invalid } from '../errors.ts';
import { encodeCursor, type KeysetCursor, type PageOrder } from './keyset-cursor.ts';

/** The largest page a list returns. */
export const MAX_PAGE_LIMIT = 1_000;
/** The page size when none is asked for. */
export const DEFAULT_PAGE_LIMIT = 100;

const LIMIT_MESSAGE = `a whole number from 1 to ${MAX_PAGE_LIMIT}`;

/** The limit to use: the default when absent; Invalid naming `path` unless a whole number in 1..MAX_PAGE_LIMIT. */
export function pageLimit(limit: number | undefined, path = 'limit'): number {
  const n = limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_LIMIT) throw new Invalid(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`, [{ path, message: `1..${MAX_PAGE_LIMIT}` }]);
  return n;
}

/** `?limit=` as a query string: a string first, so a repeated or non-numeric limit is named as such, not as NaN. */
export const pageLimitParam = z
  .string()
  .regex(/^\d{1,4}$/, LIMIT_MESSAGE)
  .transform(Number)
  .pipe(z.number().min(1, LIMIT_MESSAGE).max(MAX_PAGE_LIMIT, LIMIT_MESSAGE));

/**
 * Cuts rows read with `LIMIT limit + 1` into a page: the extra row tells whether another page exists without a
 * count, and the next cursor is the key of the last row kept.
 */
export function cutPage<T>(rows: readonly T[], limit: number, order: PageOrder, keyOf: (row: T) => Omit<KeysetCursor, 'order'>): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ ...keyOf(last), order }) : null };
}
