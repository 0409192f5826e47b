/**
 * Cascade `triggers`: cron schedules (with an IANA time zone) and bus events that start a session of a saved cascade.
 * Their inputs are JSON templates: `{{ trigger.at }}` (the slot's time) for a schedule, `{{ event.data.x }}` for an event.
 */
import * as z from 'zod';
import { collectTemplateRefs, parseCondition, parseSchedule, validatePattern, type Invalid } from '../../../kernel/index.ts';

type Issue = Invalid['issues'][number];

const inputs = z.record(z.string(), z.unknown()).default({});

/** A schedule: one session per slot, across instances. */
const cronTrigger = z.strictObject({
  cron: z.string().min(1).max(200),
  timezone: z.string().min(1).max(64).default('UTC'),
  /**
   * Slots that passed while no instance ran the schedule (all down, or the role between holders): `latest` fires
   * the most recent of them once when the schedule runs again; `skip` fires none.
   */
  missed: z.enum(['latest', 'skip']).default('latest'),
  inputs,
});

/** A bus event (subject pattern): one session per matching event that passes `filter`, across instances. */
const eventTrigger = z.strictObject({
  event: z.string().min(1).max(200),
  /** A kernel condition over `event` (`event.data.status == 'ok'`). */
  filter: z.string().min(1).max(1000).optional(),
  inputs,
});

/** One trigger. */
export const triggerSchema = z.union([cronTrigger, eventTrigger]);
/** A cron trigger. */
export type CronTrigger = z.output<typeof cronTrigger>;
/** An event trigger. */
export type EventTrigger = z.output<typeof eventTrigger>;
/** A checked trigger. */
export type Trigger = CronTrigger | EventTrigger;

/** Checks what zod cannot: the cron and zone, the subject pattern, the filter and the input templates; pushes issues naming the field. */
export function checkTriggers(triggers: readonly Trigger[], issues: Issue[]): void {
  triggers.forEach((t, i) => {
    const at = `triggers.${i}`;
    const collect = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        const bad = (err as Partial<Invalid>).issues;
        if (!bad) throw err;
        issues.push(...bad);
      }
    };
    if ('cron' in t) collect(() => parseSchedule(t.cron, { timezone: t.timezone, path: `${at}.cron`, timezonePath: `${at}.timezone` }));
    else {
      collect(() => validatePattern(t.event, `${at}.event`));
      if (t.filter !== undefined) {
        try {
          parseCondition(t.filter, { roots: ['event'] });
        } catch (err) {
          issues.push({ path: `${at}.filter`, message: (err as Error).message });
        }
      }
    }
    const { issues: bad } = collectTemplateRefs(t.inputs, `${at}.inputs`, { roots: 'cron' in t ? ['trigger'] : ['event'] });
    issues.push(...bad);
  });
}
