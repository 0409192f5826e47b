/**
 * The PostgreSQL error inside a thrown error: postgres.js throws it as is, drizzle wraps it (`cause`), PGlite names
 * the constraint `constraint` where postgres.js says `constraint_name`. Callers test the SQLSTATE (23505
 * unique_violation, 42501 insufficient_privilege, ...) without knowing which driver answered.
 */
export interface PgError {
  /** SQLSTATE, e.g. '23505'. */
  code: string;
  /** The violated constraint, when the error names one. */
  constraint?: string;
}

/** The first error in `err`'s cause chain that carries a SQLSTATE, or undefined. */
export function pgError(err: unknown): PgError | undefined {
  for (let e = err as { code?: unknown; constraint_name?: unknown; constraint?: unknown; cause?: unknown } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      const constraint = typeof e.constraint_name === 'string' ? e.constraint_name : typeof e.constraint === 'string' ? e.constraint : undefined;
      return { code: e.code, constraint };
    }
  }
  return undefined;
}
