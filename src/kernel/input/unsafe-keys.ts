/** Rejects keys that could reach JavaScript internals, text the database cannot store, and absurd nesting, before any schema sees the document. */
import type { FieldIssue } from '../errors.ts';
import { textProblem } from './storable-json.ts';
import { WHOLE_VALUE } from '../validation.ts';

/** Keys refused anywhere in a definition (zod would drop some silently; templates must never create them). */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Deepest nesting of objects and arrays accepted in a definition. */
export const MAX_DOCUMENT_DEPTH = 64;

/** One issue per unsafe key, per key or string with a NUL or an unpaired surrogate (with its path), and for nesting beyond MAX_DOCUMENT_DEPTH. */
export function unsafeKeyIssues(doc: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const walk = (v: unknown, path: string[]): void => {
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) issues.push({ path: path.join('.') || WHOLE_VALUE, message: problem });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (path.length > MAX_DOCUMENT_DEPTH) {
      issues.push({ path: path.join('.'), message: `nested deeper than ${MAX_DOCUMENT_DEPTH} levels` });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, String(i)]));
      return;
    }
    for (const key of Object.keys(v)) {
      const problem = textProblem(key);
      if (UNSAFE_KEYS.has(key)) issues.push({ path: [...path, key].join('.'), message: `the key '${key}' is not allowed` });
      else if (problem) issues.push({ path: [...path, key].join('.'), message: `key ${problem}` });
      else walk((v as Record<string, unknown>)[key], [...path, key]);
    }
  };
  walk(doc, []);
  return issues;
}
