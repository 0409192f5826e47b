/**
 * Cron schedules with a time zone, parsed by the `cron-parser` library: `m h dom mon dow` (optionally a leading
 * seconds field), names (`MON-FRI`, `JAN`), `L`, `#`, and the aliases `@hourly`, `@daily`, `@weekly`, `@monthly`,
 * `@yearly`, `@weekdays`, `@weekends`. Next fire times follow the zone's daylight-saving rules: a local time that a
 * spring-forward skips fires at the first instant after the gap, one that a fall-back repeats fires once.
 */
import { CronExpressionParser } from 'cron-parser';
import { Invalid } from '../errors.ts';

/** A parsed schedule: `next(after)` is the first fire time strictly after `after`. */
export interface CronSchedule {
  readonly cron: string;
  readonly timezone: string;
  next(after: Date): Date;
}

/** Options of parseSchedule. */
export interface ScheduleOptions {
  /** IANA time zone name (`Europe/Berlin`, `America/New_York`); default `UTC`. */
  timezone?: string;
  /** Field path of the cron expression in messages; default `cron`. */
  path?: string;
  /** Field path of the time zone in messages; default the sibling `timezone` of `path`. */
  timezonePath?: string;
}

const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@weekdays', '@weekends']);
// The library's `H` (hashed) values depend on a seed, so two instances could compute different slots: refused.
const FIELD_RE = /^[0-9A-Za-z*,/\-?#L]+$/;

/** True when `tz` is a time zone this runtime knows (IANA names and UTC offsets such as `+02:00` are not the same thing: names only). */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Throws Invalid at `path` with `message`. */
function fail(path: string, message: string): never {
  throw new Invalid(`${path}: ${message}`, [{ path, message }]);
}

/** Parses a cron expression for a time zone; Invalid naming the field when the expression or zone is bad or never fires. */
export function parseSchedule(cron: string, options: ScheduleOptions = {}): CronSchedule {
  const path = options.path ?? 'cron';
  const timezone = options.timezone ?? 'UTC';
  const tzPath = options.timezonePath ?? (path.includes('.') ? `${path.slice(0, path.lastIndexOf('.'))}.timezone` : 'timezone');
  if (!isTimeZone(timezone)) fail(tzPath, `'${timezone.slice(0, 64)}' is not a known IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
  const source = cron.trim();
  if (source.length > 200) fail(path, 'cron expression is longer than 200 characters');
  if (source.startsWith('@')) {
    if (!ALIASES.has(source.toLowerCase())) fail(path, `unknown alias '${source.slice(0, 20)}': use ${[...ALIASES].join(', ')}`);
  } else {
    const fields = source.split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) fail(path, `cron '${source}' must have 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first`);
    const bad = fields.find((f) => !FIELD_RE.test(f) || /H/.test(f));
    if (bad !== undefined) fail(path, `invalid cron field '${bad}': use numbers, names (MON, JAN), *, ranges a-b, steps /n, lists, L or #`);
  }
  const at = (after: Date) => {
    try {
      return CronExpressionParser.parse(source, { tz: timezone, currentDate: after });
    } catch (err) {
      const why = (err as Error).message;
      // The library refuses 30 February as a parse error; for the user it is a schedule that never fires.
      if (/explicit day of month/i.test(why)) return fail(path, `cron '${source}' never fires: that day of the month does not exist in the months given`);
      return fail(path, `invalid cron '${source}': ${why}`);
    }
  };
  const schedule: CronSchedule = {
    cron: source,
    timezone,
    next(after: Date): Date {
      const expr = at(after);
      try {
        let t = expr.next().toDate();
        // Strictly after `after`, whatever the library does with a match inside the same second.
        while (t.getTime() <= after.getTime()) t = expr.next().toDate();
        return t;
      } catch (err) {
        return fail(path, `cron '${source}' never fires: ${(err as Error).message}`);
      }
    },
  };
  // Parsing and one step ahead now: a bad field or a day that never comes (30 February) fails on submit.
  schedule.next(new Date());
  return schedule;
}
