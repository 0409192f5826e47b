/**
 * The opaque keyset cursor of a list ordered by (time, id): the last row's key and the order it was read in.
 * base64url JSON `{t, id, o}`; milliseconds match a timestamptz column's precision as JavaScript reads it.
 */
import * as z from 'zod';
import { Invalid } from '../errors.ts';
import { textProblem } from '../input/storable-json.ts';

/** Sort order of a keyset-paged list. */
export type PageOrder = 'asc' | 'desc';

/** A decoded cursor: the key of the last row returned. */
export interface KeysetCursor {
  at: Date;
  id: string;
  order: PageOrder;
}

const Encoded = z.object({ t: z.number().int().nonnegative(), id: z.string().min(1).max(1000), o: z.enum(['asc', 'desc']) });

/** Encodes a cursor (opaque to callers). */
export function encodeCursor(c: KeysetCursor): string {
  return Buffer.from(JSON.stringify({ t: c.at.getTime(), id: c.id, o: c.order })).toString('base64url');
}

/**
 * Decodes a cursor; Invalid naming `path` when it is malformed, was read in the other order, or holds a date or
 * text the database cannot take (a forged cursor gets a 400, never a database error).
 */
export function decodeCursor(s: string, order: PageOrder, path = 'cursor'): KeysetCursor {
  const malformed = (): Invalid => new Invalid('cursor is not one this server returned', [{ path, message: 'malformed cursor' }]);
  let parsed: z.infer<typeof Encoded>;
  try {
    parsed = Encoded.parse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
  } catch {
    throw malformed();
  }
  if (parsed.o !== order) throw new Invalid(`cursor was returned for order '${parsed.o}', not '${order}'`, [{ path, message: `cursor belongs to order '${parsed.o}'` }]);
  const at = new Date(parsed.t);
  if (Number.isNaN(at.getTime()) || textProblem(parsed.id)) throw malformed();
  return { at, id: parsed.id, order: parsed.o };
}
