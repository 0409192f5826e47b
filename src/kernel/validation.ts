/** Turns zod errors into the field issues that 400 responses and `config check` print. */
import type * as z from 'zod';
import type { FieldIssue } from './errors.ts';

/** Flattens a zod error into one issue per bad field, with dotted paths; unknown keys are named one by one. */
export function zodIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return flatten(error.issues, [prefix].filter(Boolean));
}

function flatten(issues: readonly z.core.$ZodIssue[], at: string[]): FieldIssue[] {
  return issues.flatMap((issue) => {
    const base = [...at, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...base, key].join('.'), message: 'unknown field' }));
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // No branch matched: name the fields of the branch that came closest (fewest issues), e.g. `triggers.0.missed`
      // of a cron trigger rather than only `triggers.0`; when two branches come equally close, the union itself.
      const branches = issue.errors.map((branch) => flatten(branch, base)).sort((x, y) => x.length - y.length);
      if (branches.length === 1 || branches[0]!.length < branches[1]!.length) return branches[0]!;
    }
    return [{ path: base.join('.') || '(root)', message: issue.message }];
  });
}
