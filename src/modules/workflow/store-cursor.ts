/** The opaque keyset cursor of the run list: the last row's (createdAt, runId) and the order it was read in. */
import * as z from 'zod';
import { Invalid } from '../../kernel/index.ts';

/** A decoded cursor. */
export interface RunCursor {
  createdAt: Date;
  runId: string;
  order: 'asc' | 'desc';
}

const Encoded = z.object({ t: z.number().int().nonnegative(), id: z.string().min(1), o: z.enum(['asc', 'desc']) });

/** Encodes a cursor as base64url JSON (opaque to callers; milliseconds match the column's precision). */
export function encodeCursor(c: RunCursor): string {
  return Buffer.from(JSON.stringify({ t: c.createdAt.getTime(), id: c.runId, o: c.order })).toString('base64url');
}

/** Decodes a cursor; Invalid (naming `cursor`) when it is malformed or was read in the other order. */
export function decodeCursor(s: string, order: 'asc' | 'desc'): RunCursor {
  let parsed: z.infer<typeof Encoded>;
  try {
    parsed = Encoded.parse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
  } catch {
    throw new Invalid('cursor is not one this server returned', [{ path: 'cursor', message: 'malformed cursor' }]);
  }
  if (parsed.o !== order) throw new Invalid(`cursor was returned for order '${parsed.o}', not '${order}'`, [{ path: 'cursor', message: `cursor belongs to order '${parsed.o}'` }]);
  return { createdAt: new Date(parsed.t), runId: parsed.id, order: parsed.o };
}
