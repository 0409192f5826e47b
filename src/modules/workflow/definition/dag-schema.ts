/** The DAG form (YAML or JSON): steps with needs, one action or http call each, retries, timeouts and conditions. */
import * as z from 'zod';
import { InputSchemaSpec } from './input-schema.ts';
import { ActionCallSpec, ActionName, DurationText, Headers, JsonTemplate, OnCompleteSpec, RetrySpec, UrlTemplate, WorkflowName } from './schema-common.ts';
import { ConnectorsSpec, SchedulesSpec } from './triggers-schema.ts';

/** Step ids: usable in paths (`steps.<id>.output`), so letters, digits, '_' and '-', starting with a letter. */
export const StepId = z.string().max(64).regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'use letters, digits, _ and -, starting with a letter');

/** One step of a DAG. */
export const DagStepSpec = z.strictObject({
  id: StepId,
  description: z.string().max(2000).optional(),
  /** Ids of the steps that must settle first (checked on compile, so a bad id is reported with its position). */
  needs: z.array(z.string().max(64)).max(500).optional(),
  /** A registered action: `name` or `{ name, input }`. */
  action: z.union([ActionName, ActionCallSpec]).optional(),
  /** An HTTP call; the rendered `input` is its JSON body (none for GET); the JSON response is the step's output. */
  http: z
    .strictObject({
      url: UrlTemplate,
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
      headers: Headers.optional(),
    })
    .optional(),
  /** Input template for the action, or the http body. */
  input: JsonTemplate.optional(),
  retry: RetrySpec.optional(),
  /** Limit of one attempt, e.g. '30s'. */
  timeout: DurationText.optional(),
  /** Condition; the step is skipped when it is false. */
  when: z.string().max(2000).optional(),
});

/** The whole DAG definition. */
export const DagSpec = z.strictObject({
  name: WorkflowName,
  description: z.string().max(2000).optional(),
  /** Schema of the trigger's object (the run's input); omitted = any JSON. */
  input: InputSchemaSpec.optional(),
  steps: z.array(DagStepSpec).min(1).max(500),
  onComplete: OnCompleteSpec.optional(),
  /** Cron triggers; the object is the run's input (see triggers-schema.ts). */
  schedules: SchedulesSpec.optional(),
  /** Bus and webhook triggers; a DAG has no callback states, so only `trigger` (see triggers-schema.ts). */
  connectors: ConnectorsSpec.optional(),
});

/** A parsed DAG definition. */
export type DagDefinition = z.infer<typeof DagSpec>;
/** A parsed DAG step. */
export type DagStepDefinition = z.infer<typeof DagStepSpec>;
