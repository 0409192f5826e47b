/** Rejects keys that could reach JavaScript internals, and absurd nesting, before any schema sees the document. */
import type { FieldIssue } from '../../../kernel/index.ts';

/** Keys refused anywhere in a definition (zod would drop some silently; templates must never create them). */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Deepest nesting of objects and arrays accepted in a definition. */
export const MAX_DOCUMENT_DEPTH = 64;

/** One issue per unsafe key (with its path) and for nesting beyond MAX_DOCUMENT_DEPTH. */
export function unsafeKeyIssues(doc: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const walk = (v: unknown, path: string[]): void => {
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
      if (UNSAFE_KEYS.has(key)) issues.push({ path: [...path, key].join('.'), message: `the key '${key}' is not allowed` });
      else walk((v as Record<string, unknown>)[key], [...path, key]);
    }
  };
  walk(doc, []);
  return issues;
}
