/** The declarative state-machine form (YAML or JSON), strict: unknown keys are rejected. */
import * as z from 'zod';
import { ActionCallSpec, DurationText, Headers, JsonTemplate, OnCompleteSpec, RetrySpec, StatusName, TimeoutMs, UrlTemplate, WorkflowName } from './schema-common.ts';
import { ConnectorsSpec, SchedulesSpec } from './triggers-schema.ts';

/** Destinations of an edge: one or more status names. */
const Destinations = z.array(StatusName).min(1).max(64);

/** One state: its outgoing edges (none = terminal) and how its automatic work runs. */
export const StateSpec = z.strictObject({
  description: z.string().max(2000).optional(),
  /** Waits for POST .../runs/{runId}/callback/{status}; the body's status must be one of `to`. */
  callback: z.strictObject({ to: Destinations }).optional(),
  /** Moves the run to `to` once it has stayed in this state for `after`. */
  timeout: z.strictObject({ after: DurationText, to: StatusName }).optional(),
  /** POSTs the run; the response's `{status, object}` picks the next status among `to`. */
  http: z.strictObject({ url: UrlTemplate, to: Destinations, timeoutMs: TimeoutMs.optional(), headers: Headers.optional() }).optional(),
  /** Calls a registered action with a rendered input; success goes to `on.ok`, failure to `on.error`. */
  action: z
    .strictObject({
      name: ActionCallSpec.shape.name,
      input: JsonTemplate.optional(),
      on: z.strictObject({ ok: StatusName, error: StatusName.optional() }),
    })
    .optional(),
  /** Runs argv (never a shell string; off unless enabled in config); stdout's `{status, object}` picks among `to`. */
  command: z
    .strictObject({ argv: z.array(z.string().min(1).max(4096)).min(1).max(256), to: Destinations, timeoutMs: TimeoutMs.optional() })
    .optional(),
  /** Number of consumer shards for this state's work (1..64). */
  parallel: z.int().min(1).max(64).optional(),
  retry: RetrySpec.optional(),
  /** Pause the run after this many consecutive failed processings of this state (counted per process and run). */
  pauseAfterErrCount: z.int().min(1).max(10_000).optional(),
});

/** The whole state-machine definition. */
export const StateMachineSpec = z.strictObject({
  name: WorkflowName,
  description: z.string().max(2000).optional(),
  start: StatusName,
  // `shipped:` with no value in YAML is null: read it as an empty (terminal) state.
  states: z.record(StatusName, z.preprocess((v) => v ?? {}, StateSpec)),
  onComplete: OnCompleteSpec.optional(),
  /** Cron triggers (see triggers-schema.ts). */
  schedules: SchedulesSpec.optional(),
  /** Bus and webhook triggers and callbacks (see triggers-schema.ts). */
  connectors: ConnectorsSpec.optional(),
});

/** A parsed state-machine definition. */
export type StateMachineDefinition = z.infer<typeof StateMachineSpec>;
/** A parsed state. */
export type StateDefinition = z.infer<typeof StateSpec>;
