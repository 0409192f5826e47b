/**
 * Paths such as `input.x`, `steps.fetch.output.a.0` or `object.customer.id`: parsed once, resolved safely.
 * The first name is the root; a caller may restrict roots (`ExpressionOptions.roots`) so a typo fails on submit.
 */
import { ExpressionError } from './expression-error.ts';

/** A parsed path: its root and the property names (or array indexes) below it. */
export interface PathRef {
  root: string;
  segments: string[];
  /** The path as written, for messages. */
  text: string;
}

/** What paths resolve against: one entry per root name (e.g. `{ input, steps }`); plain data only. */
export type RefScope = Readonly<Record<string, unknown>>;

/** Options shared by every parser of the package. */
export interface ExpressionOptions {
  /** The names a path may start with; any name when omitted. The order is the one shown in messages. */
  roots?: readonly string[];
}

/** Segments that would reach JavaScript internals instead of data; rejected when parsing, whatever the scope. */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Longest path accepted, so a hostile definition cannot make parsing or messages expensive. */
export const MAX_PATH_LENGTH = 256;
const SEGMENT_RE = /^[A-Za-z0-9_-]+$/;
const ROOT_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parses `root.seg.seg`; `column` is where the path starts in the enclosing text (for error positions). */
export function parseRef(text: string, column = 1, options: ExpressionOptions = {}): PathRef {
  if (text.length > MAX_PATH_LENGTH) throw new ExpressionError(`path is longer than ${MAX_PATH_LENGTH} characters`, column);
  const parts = text.split('.');
  const [root = '', ...segments] = parts;
  const { roots } = options;
  const known = roots ? roots.includes(root) : ROOT_RE.test(root);
  if (!known || FORBIDDEN_SEGMENTS.has(root)) {
    const expected = roots ? roots.join(', ') : 'a name (letters, digits, _ and -, not a digit first)';
    throw new ExpressionError(`unknown name '${root}': a path starts with ${expected}`, column);
  }
  let at = column + root.length + 1;
  for (const seg of segments) {
    if (seg === '') throw new ExpressionError(`empty property name in path '${text}'`, at);
    if (!SEGMENT_RE.test(seg)) throw new ExpressionError(`invalid property name '${seg}' in path '${text}' (letters, digits, _ and - only)`, at);
    if (FORBIDDEN_SEGMENTS.has(seg)) throw new ExpressionError(`'${seg}' is not allowed in a path`, at);
    at += seg.length + 1;
  }
  return { root, segments, text };
}

/** Follows a path through plain data: own properties and array indexes only; anything missing is `undefined`. */
export function resolveRef(scope: RefScope, ref: PathRef): unknown {
  if (FORBIDDEN_SEGMENTS.has(ref.root)) return undefined;
  let cur: unknown = Object.hasOwn(scope, ref.root) ? scope[ref.root] : undefined;
  for (const seg of ref.segments) {
    if (FORBIDDEN_SEGMENTS.has(seg)) return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (cur !== null && typeof cur === 'object') {
      cur = Object.hasOwn(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
    } else {
      return undefined;
    }
  }
  return cur;
}
