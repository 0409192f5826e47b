/** zod pieces for input that ends up in PostgreSQL: storable text, storable JSON, ISO dates. */
import * as z from 'zod';
import { storableIssues, textProblem } from './storable-json.ts';

/** Refines a string schema to text PostgreSQL can store: a NUL or an unpaired surrogate would fail the statement with a 500. */
export function storableText<S extends z.ZodString>(schema: S): S {
  return schema.superRefine((v, ctx) => {
    const problem = textProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }) as unknown as S;
}

/** Any JSON a row can keep: storable text everywhere and bounded nesting (deep jsonb wedges the embedded database). */
export const storableJson = z.unknown().superRefine((v, ctx) => {
  for (const i of storableIssues(v)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
});

/** ISO 8601 with a four-digit year: what PostgreSQL's timestamptz holds, unlike everything `new Date()` accepts. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** A date or date-time string (2024-05-01, 2024-05-01T12:00:00Z) parsed into a Date. */
export const isoDate = z.string().transform((s, ctx) => {
  const d = ISO_DATE.test(s) ? new Date(s) : undefined;
  if (d && !Number.isNaN(d.getTime())) return d;
  ctx.addIssue({ code: 'custom', message: 'an ISO 8601 date or date-time, e.g. 2024-05-01 or 2024-05-01T12:00:00Z' });
  return z.NEVER;
});
