/**
 * The `schedules:` and `connectors:` keys shared by the state-machine and DAG forms: how runs start (or are called
 * back) from outside. Shape only; names, crons, subjects, templates and callback targets are checked on compile
 * (compile/triggers.ts) so that every problem is reported at once, with its path.
 */
import * as z from 'zod';
import { JsonTemplate, StatusName } from './schema-common.ts';

/** Schedule and connector names: part of role names, KV keys and the webhook URL, so the status-name alphabet. */
export const TriggerName = StatusName;
/** A foreign id template, e.g. `order-{{ event.data.id }}`; it must render to 1..200 characters. */
const ForeignIdTemplate = z.string().min(1).max(1000);

/** A cron trigger: at each slot, start a run for `foreignId` unless one is active for it. */
export const ScheduleDefSpec = z.strictObject({
  name: TriggerName,
  description: z.string().max(2000).optional(),
  /** `m h dom mon dow` or `s m h dom mon dow` (names, `@hourly` and the like too), read in `timezone`. */
  cron: z.string().max(200),
  /** IANA time zone name (Europe/Berlin); default UTC. Next fire times follow its daylight-saving changes. */
  timezone: z.string().max(64).optional(),
  /** May use `{{ schedule.name }}` and `{{ schedule.at }}` (the slot, ISO-8601 UTC) to start one run per slot. */
  foreignId: ForeignIdTemplate,
  /** The run's object (a DAG's input); the same paths as foreignId. */
  object: JsonTemplate.optional(),
});

/** What a connector's trigger starts: a run for the rendered foreign id with the rendered object. */
const ConnectorTriggerSpec = z.strictObject({
  foreignId: ForeignIdTemplate,
  object: JsonTemplate.optional(),
});

/** What a connector's callback does: moves the active run of the foreign id from `status` to `to`. */
const ConnectorCallbackSpec = z.strictObject({
  foreignId: ForeignIdTemplate,
  /** A state with a callback, where the run waits. */
  status: StatusName,
  /** One of that callback's destinations. */
  to: StatusName,
  /** Replaces the run's object when given (as a callback's `object` does). */
  object: JsonTemplate.optional(),
});

/** Maps events from a bus subject (and from the connector's webhook) to a trigger or a callback. */
export const ConnectorDefSpec = z.strictObject({
  name: TriggerName,
  description: z.string().max(2000).optional(),
  /** Bus subject pattern (`*` one token, `>` the rest); omitted = reached through the webhook route only. */
  subject: z.string().max(256).optional(),
  /** Condition over `event.*`; an event for which it is false is skipped. */
  when: z.string().max(2000).optional(),
  /** Consumer shards sharing the subject's events (each held by one instance). */
  parallel: z.number().int().min(1).max(64).default(1),
  trigger: ConnectorTriggerSpec.optional(),
  callback: ConnectorCallbackSpec.optional(),
});

/** Most schedules or connectors one workflow may declare (each holds a role). */
export const MAX_TRIGGERS = 64;

/** The `schedules:` list. */
export const SchedulesSpec = z.array(ScheduleDefSpec).max(MAX_TRIGGERS);
/** The `connectors:` list. */
export const ConnectorsSpec = z.array(ConnectorDefSpec).max(MAX_TRIGGERS);

/** A parsed schedule. */
export type ScheduleDefinition = z.infer<typeof ScheduleDefSpec>;
/** A parsed connector. */
export type ConnectorDefinition = z.infer<typeof ConnectorDefSpec>;
