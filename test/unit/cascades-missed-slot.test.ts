/** The latest missed schedule slot: found by a forward walk from a doubling window, including a week of minutes. */
import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/kernel/index.ts';
import { latestSlot } from '../../src/modules/cascades/runtime/missed-slot.ts';

const t = (iso: string) => Date.parse(iso);

describe('latestSlot', () => {
  it('finds the last slot in (after, until], or none', () => {
    const hourly = parseSchedule('0 * * * *');
    expect(latestSlot(hourly, t('2026-12-04T11:00:00Z'), t('2026-12-04T14:30:00Z'))).toBe(t('2026-12-04T14:00:00Z'));
    // `until` itself counts, `after` does not.
    expect(latestSlot(hourly, t('2026-12-04T11:00:00Z'), t('2026-12-04T14:00:00Z'))).toBe(t('2026-12-04T14:00:00Z'));
    expect(latestSlot(hourly, t('2026-12-04T11:00:00Z'), t('2026-12-04T11:59:59Z'))).toBeUndefined();
    expect(latestSlot(hourly, t('2026-12-04T12:00:00Z'), t('2026-12-04T11:00:00Z'))).toBeUndefined();
  });

  it('reaches back past the first window for rare schedules, and stays short for frequent ones', () => {
    // Mondays 09:00 Berlin: missed from Tuesday to the Thursday of the following week.
    const weekly = parseSchedule('0 9 * * MON', { timezone: 'Europe/Berlin' });
    expect(latestSlot(weekly, t('2026-12-01T12:00:00Z'), t('2026-12-10T12:00:00Z'))).toBe(t('2026-12-07T08:00:00Z'));
    let steps = 0;
    const minutely = parseSchedule('* * * * *');
    const counting = { ...minutely, next: (d: Date) => (steps++, minutely.next(d)) };
    expect(latestSlot(counting, t('2026-11-27T00:00:30Z'), t('2026-12-04T10:30:30Z'))).toBe(t('2026-12-04T10:30:00Z'));
    expect(steps).toBeLessThan(100);
  });
});
