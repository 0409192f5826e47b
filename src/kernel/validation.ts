/** Turns zod errors into the field issues that 400 responses and `config check` print, and names them from where the value came. */
import type * as z from 'zod';
import { Invalid, type FieldIssue } from './errors.ts';

/** The path of a whole value checked on its own (a config file, an action's input): it has no field name. */
export const WHOLE_VALUE = '(root)';

/** Where a posted document's fields are named: `body.<path>`, the document itself `body`, whether it came as JSON or YAML. */
export const BODY = 'body';

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
    return [{ path: base.join('.') || WHOLE_VALUE, message: issue.message }];
  });
}

/** Issues found in a document, named as parts of the field `at` holding it (`name` -> `body.name`, `(root)` -> `body`). */
export function issuesUnder(at: string, issues: readonly FieldIssue[]): FieldIssue[] {
  return issues.map((i) => ({ ...i, path: i.path === '' || i.path === WHOLE_VALUE ? at : `${at}.${i.path}` }));
}

/**
 * Runs `check` on a document that sits at `at` (a definition posted as the body: `body`); an Invalid it throws, now
 * or from the promise it returns, is thrown again with its fields under `at`. Definition parsers name fields from
 * the document's top, so a route, the CLI's local check and an action each say where the document was.
 */
export function namedUnder<T>(at: string, check: () => T): T {
  const rename = (err: unknown): never => {
    if (err instanceof Invalid) throw new Invalid(err.message, issuesUnder(at, err.issues));
    throw err;
  };
  try {
    const out = check();
    return (out instanceof Promise ? out.catch(rename) : out) as T;
  } catch (err) {
    return rename(err);
  }
}
