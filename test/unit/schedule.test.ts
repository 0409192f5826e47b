/** The kernel's cron schedules: the expressions users write, time zones and daylight-saving changes, bad input. */
import { describe, expect, it } from 'vitest';
import { Invalid, isTimeZone, parseSchedule } from '../../src/kernel/index.ts';

const next = (expr: string, after: string, timezone?: string) => parseSchedule(expr, { timezone }).next(new Date(after)).toISOString();
/** The next `n` fire times after `after`. */
function series(expr: string, after: string, timezone: string, n: number): string[] {
  const s = parseSchedule(expr, { timezone });
  const out: string[] = [];
  let t = new Date(after);
  for (let i = 0; i < n; i++) out.push((t = s.next(t)).toISOString());
  return out;
}
/** The Invalid parseSchedule throws. */
function invalid(fn: () => unknown): Invalid {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    return err as Invalid;
  }
  throw new Error('expected an Invalid');
}

describe('cron in UTC', () => {
  it('finds the next matching minute, hour, day and month', () => {
    expect(next('*/15 * * * *', '2026-11-23T10:07:30Z')).toBe('2026-11-23T10:15:00.000Z');
    expect(next('0 9 * * *', '2026-11-23T10:00:00Z')).toBe('2026-11-24T09:00:00.000Z');
    expect(next('30 2 1 * *', '2026-11-23T00:00:00Z')).toBe('2026-12-01T02:30:00.000Z');
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('0 12 * * 1-5', '2026-11-28T13:00:00Z')).toBe('2026-11-30T12:00:00.000Z'); // Saturday -> Monday
    expect(next('0 0 * * 7', '2026-11-23T00:00:00Z')).toBe('2026-11-29T00:00:00.000Z'); // 7 is Sunday too
  });

  it('is strictly after the given time and supports a seconds field', () => {
    expect(next('0 * * * *', '2026-11-23T10:00:00Z')).toBe('2026-11-23T11:00:00.000Z');
    expect(next('0 * * * *', '2026-11-23T10:00:00.500Z')).toBe('2026-11-23T11:00:00.000Z');
    expect(next('0 * * * *', '2026-11-23T09:59:59.999Z')).toBe('2026-11-23T10:00:00.000Z');
    expect(next('*/10 * * * * *', '2026-11-23T10:00:05Z')).toBe('2026-11-23T10:00:10.000Z');
  });

  it('ORs day-of-month and day-of-week when both are restricted (POSIX)', () => {
    expect(next('0 0 1 * 1', '2026-11-23T00:00:00Z')).toBe('2026-11-30T00:00:00.000Z'); // next Monday before Dec 1
  });

  it('reads names and aliases users write', () => {
    expect(series('0 9 * * MON-FRI', '2026-11-27T10:00:00Z', 'UTC', 2)).toEqual(['2026-11-30T09:00:00.000Z', '2026-12-01T09:00:00.000Z']); // Friday after 9 -> Monday
    expect(series('@hourly', '2026-11-23T10:20:00Z', 'UTC', 2)).toEqual(['2026-11-23T11:00:00.000Z', '2026-11-23T12:00:00.000Z']);
    expect(next('@daily', '2026-11-23T10:20:00Z')).toBe('2026-11-24T00:00:00.000Z');
    expect(next('@weekly', '2026-11-23T10:20:00Z')).toBe('2026-11-29T00:00:00.000Z');
    expect(next('0 0 1 JAN *', '2026-11-23T10:20:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('0 0 L * *', '2026-02-03T00:00:00Z')).toBe('2026-02-28T00:00:00.000Z');
  });

  it('rejects malformed expressions, naming the field', () => {
    for (const bad of ['* * * *', '60 * * * *', '* 24 * * *', '*/0 * * * *', 'a * * * *', '5-1 * * * *', 'H * * * *', '@often', '', '* * * * * * *', `${'1,'.repeat(200)}1 * * * *`]) {
      const err = invalid(() => parseSchedule(bad, { path: 'schedules.0.cron' }));
      expect(err.issues[0]!.path, bad).toBe('schedules.0.cron');
    }
    expect(invalid(() => parseSchedule('0 0 31 4,6 *')).issues[0]!.message).toContain('never fires'); // 31 April and June
    expect(invalid(() => parseSchedule('0 0 30 2 *')).issues[0]!.path).toBe('cron');
  });
});

describe('time zones', () => {
  it('fires at local time: 09:00 on weekdays in Berlin is 08:00Z in winter and 07:00Z in summer', () => {
    expect(series('0 9 * * MON-FRI', '2026-03-26T12:00:00Z', 'Europe/Berlin', 3)).toEqual([
      '2026-03-27T08:00:00.000Z', // Friday, CET (+01:00)
      '2026-03-30T07:00:00.000Z', // Monday after the change on Sunday 29 March, CEST (+02:00)
      '2026-03-31T07:00:00.000Z',
    ]);
  });

  it('a local time skipped by the spring-forward fires once, right after the gap; hours stay hourly', () => {
    // Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
    expect(series('30 2 * * *', '2026-03-27T12:00:00Z', 'Europe/Berlin', 3)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
    // New York 2026-03-08: hourly fires are one real hour apart across the gap (no duplicate, no hole of two hours).
    expect(series('0 * * * *', '2026-03-08T05:30:00Z', 'America/New_York', 3)).toEqual(['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']);
  });

  it('a local time repeated by the fall-back fires once', () => {
    // Berlin 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice; one fire, at the first.
    const fires = series('30 2 * * *', '2026-10-23T12:00:00Z', 'Europe/Berlin', 3);
    expect(fires).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('accepts IANA names only, naming the time zone field', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    for (const tz of ['Mars/Base', 'Europe/Berlin; rm -rf /', '', 'x'.repeat(100), '+02:00']) expect(isTimeZone(tz), tz).toBe(false);
    const err = invalid(() => parseSchedule('0 9 * * *', { timezone: 'Europe/Nowhere', path: 'schedules.2.cron' }));
    expect(err.issues).toEqual([{ path: 'schedules.2.timezone', message: "'Europe/Nowhere' is not a known IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)" }]);
    expect(parseSchedule('0 9 * * *', { timezone: 'Asia/Kolkata' }).next(new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T03:30:00.000Z');
  });
});
