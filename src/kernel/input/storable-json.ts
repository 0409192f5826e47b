/**
 * Values PostgreSQL can store as text or jsonb. A NUL character or an unpaired UTF-16 surrogate anywhere in a string or
 * key makes the statement fail (SQLSTATE 22021/22P05), and deep nesting makes jsonb parsing recurse until the embedded
 * database spins: all three are the caller's input, so they are refused at the edge with the field's path.
 */
import { Invalid } from '../errors.ts';

/** Deepest nesting of objects and arrays accepted in a run's object, a callback or a webhook body. */
export const MAX_VALUE_DEPTH = 64;
/** Issues reported for one value at most; the first few are enough to fix the input. */
const MAX_ISSUES = 20;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` cannot be stored as text, or undefined when it can. */
export function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate, which is not valid Unicode';
  return undefined;
}

/** A problem with a path of keys and indexes below the value. */
export interface StorableIssue {
  path: (string | number)[];
  message: string;
}

/** Issues for every string or key that cannot be stored and for nesting beyond MAX_VALUE_DEPTH (at most 20). */
export function storableIssues(value: unknown, maxDepth = MAX_VALUE_DEPTH): StorableIssue[] {
  const issues: StorableIssue[] = [];
  // Recursion stops at maxDepth, so the walk's own stack stays small however deep the input is.
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (issues.length >= MAX_ISSUES) return;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) issues.push({ path, message: problem });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (path.length >= maxDepth) {
      issues.push({ path, message: `nested deeper than ${maxDepth} levels` });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
      return;
    }
    for (const [key, x] of Object.entries(v)) {
      const problem = textProblem(key);
      if (problem) issues.push({ path: [...path, key], message: `key ${problem}` });
      else walk(x, [...path, key]);
    }
  };
  walk(value, []);
  return issues;
}

/**
 * Throws Invalid (paths under `field`) when `value` cannot be stored: the engine's check for values that did not come
 * through the HTTP edge (a step's new object, an http step's answer, a connector's event data).
 */
export function assertStorable(value: unknown, field: string): void {
  const issues = storableIssues(value);
  if (issues.length === 0) return;
  throw new Invalid(`${field} cannot be stored: ${issues[0]!.message}`, issues.map((i) => ({ path: [field, ...i.path].join('.'), message: i.message })));
}
