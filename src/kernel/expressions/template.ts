/**
 * JSON templates with `{{ path }}` interpolation, no eval: a string that is exactly one `{{ path }}` becomes the
 * value at that path with its type kept (missing -> null); `{{ }}` embedded in longer text is stringified
 * (strings as they are, null/missing as '', objects and arrays as JSON). Object keys are never interpolated.
 */
import type { FieldIssue } from '../errors.ts';
import { ExpressionError } from './expression-error.ts';
import { parseRef, resolveRef, type ExpressionOptions, type PathRef, type RefScope } from './path-ref.ts';

/** A piece of a template string: literal text or a path to substitute. */
export type TemplatePart = { text: string } | { ref: PathRef };

/** A path found in a template, with the dotted location of the string that holds it. */
export interface LocatedRef {
  ref: PathRef;
  path: string;
}

/** Templates nested deeper than this are refused, which also bounds every recursive walk below. */
export const MAX_TEMPLATE_DEPTH = 64;

/** Splits a string into text and `{{ path }}` parts; throws ExpressionError on an unclosed or empty `{{ }}`. */
export function parseTemplateString(s: string, options: ExpressionOptions = {}): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('{{', i);
    if (open < 0) break;
    const close = s.indexOf('}}', open + 2);
    if (close < 0) throw new ExpressionError("'{{' is not closed by '}}'", open + 1);
    if (open > i) parts.push({ text: s.slice(i, open) });
    const raw = s.slice(open + 2, close);
    const lead = raw.length - raw.trimStart().length;
    const inner = raw.trim();
    if (inner === '') throw new ExpressionError("empty '{{ }}'", open + 1);
    parts.push({ ref: parseRef(inner, open + 3 + lead, options) });
    i = close + 2;
  }
  if (i < s.length) parts.push({ text: s.slice(i) });
  return parts;
}

/** Walks a JSON template and returns every path in it, plus an issue for each malformed string. */
export function collectTemplateRefs(template: unknown, basePath: string, options: ExpressionOptions = {}): { refs: LocatedRef[]; issues: FieldIssue[] } {
  const refs: LocatedRef[] = [];
  const issues: FieldIssue[] = [];
  const walk = (value: unknown, path: string, depth: number): void => {
    if (depth > MAX_TEMPLATE_DEPTH) {
      issues.push({ path, message: `template is nested deeper than ${MAX_TEMPLATE_DEPTH} levels` });
      return;
    }
    if (typeof value === 'string') {
      try {
        for (const part of parseTemplateString(value, options)) if ('ref' in part) refs.push({ ref: part.ref, path });
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        issues.push({ path, message: err.message });
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}.${i}`, depth + 1));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, depth + 1);
    }
  };
  walk(template, basePath, 0);
  return { refs, issues };
}

/** Text form of a value embedded in a longer string. */
function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Renders one template string against a scope (see the file comment for typing rules). */
export function interpolateString(s: string, scope: RefScope, options: ExpressionOptions = {}): unknown {
  const parts = parseTemplateString(s, options);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && 'ref' in only) return resolveRef(scope, only.ref) ?? null;
  if (parts.every((p) => 'text' in p)) return s;
  return parts.map((p) => ('text' in p ? p.text : stringify(resolveRef(scope, p.ref)))).join('');
}

/** Renders a JSON template against a scope; the template itself is never modified. */
export function interpolate(template: unknown, scope: RefScope, options: ExpressionOptions = {}): unknown {
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > MAX_TEMPLATE_DEPTH) throw new ExpressionError(`template is nested deeper than ${MAX_TEMPLATE_DEPTH} levels`, 1);
    if (typeof value === 'string') return interpolateString(value, scope, options);
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (value !== null && typeof value === 'object') {
      // fromEntries defines own properties, so even a '__proto__' key stays plain data.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, depth + 1)]));
    }
    return value;
  };
  return walk(template, 0);
}

/** Renders a template string always as text (urls, header values, command arguments). */
export function interpolateText(s: string, scope: RefScope, options: ExpressionOptions = {}): string {
  return stringify(interpolateString(s, scope, options));
}
