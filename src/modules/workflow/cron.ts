/** Cron expressions (minute hour day-of-month month day-of-week, UTC; an optional leading seconds field) and their next fire time. */
import { Invalid } from '../../kernel/index.ts';

/** A parsed expression: the allowed values of each field. */
export interface Cron {
  source: string;
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Per POSIX cron, when both day fields are restricted a day matches if EITHER matches. */
  dayOr: boolean;
}

const FIELDS = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

function parseField(text: string, f: (typeof FIELDS)[number], path: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Invalid(`invalid cron ${f.name} '${part}'`, [{ path, message: `use *, N, N-M, */S or lists of them for the ${f.name}` }]);
    const lo = m[1] === '*' ? f.min : Number(m[2]);
    const hi = m[1] === '*' ? f.max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? f.max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < f.min || hi > f.max || lo > hi || step < 1) throw new Invalid(`cron ${f.name} '${part}' is out of range ${f.min}-${f.max}`, [{ path, message: `${f.min}-${f.max}` }]);
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

/** Parses `[s] m h dom mon dow`; throws Invalid naming the bad field. */
export function parseCron(source: string, path = 'cron'): Cron {
  const given = source.trim().split(/\s+/);
  if (given.length !== 5 && given.length !== 6) throw new Invalid(`cron '${source}' must have 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first`, [{ path, message: '5 or 6 space-separated fields' }]);
  const parts = given.length === 5 ? ['0', ...given] : given;
  const [se, mi, h, d, mo, w] = parts.map((p, i) => parseField(p, FIELDS[i]!, path)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return { source, seconds: se, minutes: mi, hours: h, days: d, months: mo, weekdays: w, dayOr: parts[3] !== '*' && parts[5] !== '*' };
}

function dayMatches(c: Cron, t: Date): boolean {
  const dom = c.days.has(t.getUTCDate());
  const dow = c.weekdays.has(t.getUTCDay());
  return c.dayOr ? dom || dow : dom && dow;
}

/** The first whole second strictly after `after` that matches (UTC); searches at most ~4 years. */
export function nextFire(c: Cron, after: Date): Date {
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const limit = after.getTime() + 4 * 366 * 86_400_000;
  while (t.getTime() <= limit) {
    if (!c.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(c, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!c.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!c.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else if (!c.seconds.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
    } else return t;
  }
  throw new Invalid(`cron '${c.source}' never fires`, [{ path: 'cron', message: 'no matching time within 4 years' }]);
}
