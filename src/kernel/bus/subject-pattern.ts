/** NATS-style subjects: dotted tokens; in patterns `*` matches one token and a final `>` one or more. */
import { Invalid } from '../errors.ts';

/** A compiled pattern: true when the event type matches. */
export type SubjectMatcher = (type: string) => boolean;

// NATS forbids whitespace anywhere in a subject; `*` and `>` are wildcards only as whole tokens,
// so we refuse them inside a token rather than let the adapters disagree on what `a*` means.
const BAD_CHARS = /[\s*>]/;

/** Why `subject` is not a valid subject, or undefined when it is; `wildcards` allows `*` and a final `>`. */
function problem(subject: string, wildcards: boolean): string | undefined {
  if (typeof subject !== 'string' || subject.length === 0) return 'must be a non-empty string';
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length === 0) return 'must not contain empty tokens (leading, trailing or double dots)';
    if (wildcards && t === '*') continue;
    if (wildcards && t === '>') {
      if (i !== tokens.length - 1) return "'>' is only allowed as the last token";
      continue;
    }
    if (BAD_CHARS.test(t)) {
      return wildcards ? "must not contain spaces; '*' and '>' must be whole tokens" : 'must not contain spaces or wildcards';
    }
  }
  return undefined;
}

/** True when `type` is a concrete subject (no wildcards, no empty tokens, no spaces). */
export function isValidType(type: string): boolean {
  return problem(type, false) === undefined;
}

/** Throws Invalid unless `type` is a concrete subject (no wildcards, no empty tokens, no spaces). */
export function validateType(type: string, field = 'type'): void {
  const why = problem(type, false);
  if (why) throw new Invalid(`invalid event type '${type}': ${why}`, [{ path: field, message: why }]);
}

/** Throws Invalid unless `pattern` is a valid subject pattern. */
export function validatePattern(pattern: string, field = 'pattern'): void {
  const why = problem(pattern, true);
  if (why) throw new Invalid(`invalid subject pattern '${pattern}': ${why}`, [{ path: field, message: why }]);
}

/** Throws Invalid unless `group` is a usable queue group name (non-empty, no whitespace). */
export function validateQueueGroup(group: string): void {
  if (typeof group !== 'string' || group.length === 0 || /\s/.test(group)) {
    throw new Invalid(`invalid queue group '${group}'`, [{ path: 'queueGroup', message: 'must be non-empty without spaces' }]);
  }
}

/** Validates `pattern` once and returns a fast matcher for event types. */
export function compilePattern(pattern: string): SubjectMatcher {
  validatePattern(pattern);
  const tokens = pattern.split('.');
  const tail = tokens[tokens.length - 1] === '>';
  const fixed = tail ? tokens.slice(0, -1) : tokens;
  return (type: string) => {
    const parts = type.split('.');
    // `>` needs at least one token after the fixed part; otherwise the lengths must be equal.
    if (tail ? parts.length <= fixed.length : parts.length !== fixed.length) return false;
    for (let i = 0; i < fixed.length; i++) {
      const p = fixed[i]!;
      if (p !== '*' && p !== parts[i]) return false;
    }
    return true;
  };
}

/** True when event type `type` matches `pattern` (validates the pattern; prefer compilePattern in loops). */
export function matchSubject(pattern: string, type: string): boolean {
  return compilePattern(pattern)(type);
}

/**
 * Turns any string into one subject token: letters, digits, `_` and `-` pass through; every other character
 * (dots, wildcards, spaces, non-ASCII) becomes `~` and its UTF-16 code in hex, so distinct inputs stay distinct.
 */
export function subjectToken(value: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(value)) return value;
  if (value.length === 0) return '~';
  let out = '';
  for (const ch of value) {
    if (/[A-Za-z0-9_-]/.test(ch)) out += ch;
    else for (let i = 0; i < ch.length; i++) out += `~${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** Throws Invalid unless every routing token is one subject token (non-empty, no dots, spaces or wildcards). */
export function validateRoute(route: readonly string[] | undefined): void {
  // Each routing token is one subject token: a dot inside one would shift every token after it.
  for (const token of route ?? []) {
    if (typeof token !== 'string' || !isValidType(token) || token.includes('.')) {
      throw new Invalid(`invalid routing token '${token}'`, [{ path: 'route', message: 'each token must be non-empty without dots, spaces or wildcards (use subjectToken)' }]);
    }
  }
}

/** The subject an event of `type` travels on: the type, then its routing tokens. */
export function subjectOf(type: string, route?: string[]): string {
  return route && route.length > 0 ? `${type}.${route.join('.')}` : type;
}
