/** Durations in definitions ('500ms', '30s', '30m', '2h', '1d') turned into milliseconds. */
import { Invalid } from '../errors.ts';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest duration a definition may name: one year keeps every value a safe integer for timers and rows. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d;
// Anchored, no nested quantifiers: linear on any input.
const DURATION_RE = /^(\d{1,12})(ms|s|m|h|d)$/;

/** Parses '500ms' | '30s' | '30m' | '2h' | '1d' into milliseconds; throws Invalid naming `path` otherwise. */
export function parseDuration(text: unknown, path = 'duration'): number {
  const fail = (why: string): never => {
    throw new Invalid(`${path}: ${why}`, [{ path, message: why }]);
  };
  if (typeof text !== 'string') return fail(`expected a duration string such as '30s', got ${typeof text}`);
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  const m = DURATION_RE.exec(text.trim());
  if (!m) return fail(`'${shown}' is not a duration: write a whole number followed by ms, s, m, h or d (e.g. 500ms, 30s, 5m, 2h, 1d)`);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms > MAX_DURATION_MS) return fail(`'${shown}' is longer than the maximum of 366d`);
  return ms;
}

/** Formats milliseconds back into the shortest exact unit ('90000' -> '90s', '1800000' -> '30m'). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** Parses a duration for validation: on failure pushes an issue at `path` and returns undefined. */
export function collectDuration(text: string, path: string, issues: { path: string; message: string }[]): number | undefined {
  try {
    return parseDuration(text, path);
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    issues.push(...err.issues);
    return undefined;
  }
}
