/**
 * The latest schedule slot in (after, until]: what a trigger loop fires once when it finds slots passed while no
 * instance ran the schedule (`missed: latest`, the way a Kubernetes CronJob starts one job for missed schedules
 * rather than one per slot). The schedule parser only walks forward, so the search walks forward from a window
 * before `until` that doubles until it holds a slot: a minutely cron missed for a week costs about sixty steps, not
 * ten thousand.
 */
import type { CronSchedule } from '../../../kernel/index.ts';

/** The first window looked at, before doubling. */
const FIRST_WINDOW_MS = 3_600_000;

/** The latest slot of `schedule` strictly after `after` and at or before `until`, or undefined when there is none. */
export function latestSlot(schedule: CronSchedule, after: number, until: number): number | undefined {
  if (until <= after) return undefined;
  for (let window = FIRST_WINDOW_MS; ; window *= 2) {
    const from = Math.max(after, until - window);
    let t = schedule.next(new Date(from)).getTime();
    if (t <= until) {
      let latest = t;
      while ((t = schedule.next(new Date(t)).getTime()) <= until) latest = t;
      return latest;
    }
    if (from === after) return undefined;
  }
}
