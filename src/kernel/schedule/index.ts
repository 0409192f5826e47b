/** Cron schedules with an IANA time zone (cron-parser underneath). See docs/kernel.md#schedules. */
export { parseSchedule, isTimeZone, type CronSchedule, type ScheduleOptions } from './cron-schedule.ts';
