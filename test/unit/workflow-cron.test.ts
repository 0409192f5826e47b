import { describe, expect, it } from 'vitest';
import { Invalid } from '../../src/kernel/errors.ts';
import { nextFire, parseCron } from '../../src/modules/workflow/cron.ts';

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string) => nextFire(parseCron(expr), at(after)).toISOString();

describe('cron', () => {
  it('finds the next matching minute, hour, day and month in UTC', () => {
    expect(next('*/15 * * * *', '2026-11-23T10:07:30Z')).toBe('2026-11-23T10:15:00.000Z');
    expect(next('0 9 * * *', '2026-11-23T10:00:00Z')).toBe('2026-11-24T09:00:00.000Z');
    expect(next('30 2 1 * *', '2026-11-23T00:00:00Z')).toBe('2026-12-01T02:30:00.000Z');
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('0 12 * * 1-5', '2026-11-28T13:00:00Z')).toBe('2026-11-30T12:00:00.000Z'); // Saturday -> Monday
    expect(next('0 0 * * 7', '2026-11-23T00:00:00Z')).toBe('2026-11-29T00:00:00.000Z'); // 7 is Sunday too
  });

  it('is strictly after the given time and supports a seconds field', () => {
    expect(next('0 * * * *', '2026-11-23T10:00:00Z')).toBe('2026-11-23T11:00:00.000Z');
    expect(next('*/10 * * * * *', '2026-11-23T10:00:05Z')).toBe('2026-11-23T10:00:10.000Z');
  });

  it('ORs day-of-month and day-of-week when both are restricted (POSIX)', () => {
    expect(next('0 0 1 * 1', '2026-11-23T00:00:00Z')).toBe('2026-11-30T00:00:00.000Z'); // next Monday before Dec 1
  });

  it('rejects malformed expressions naming the problem', () => {
    for (const bad of ['* * * *', '60 * * * *', '* 24 * * *', '*/0 * * * *', 'a * * * *', '5-1 * * * *']) {
      expect(() => parseCron(bad), bad).toThrow(Invalid);
    }
  });
});
