/** Column values as the two drivers hand them back (PGlite and postgres.js differ), in one form for every module. */

/** Timestamps come back as Date (PGlite) or string (postgres.js): one ISO form for both; null stays null. */
export function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}

/** A JSON column that a driver may hand back as text. */
export function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
