/** Turns zod errors into the field issues that 400 responses and `config check` print. */
import type * as z from 'zod';
import type { FieldIssue } from './errors.ts';

/** Flattens a zod error into one issue per bad field, with dotted paths; unknown keys are named one by one. */
export function zodIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].filter(Boolean);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...base, key].join('.'), message: 'unknown field' }));
    }
    return [{ path: base.join('.') || '(root)', message: issue.message }];
  });
}
