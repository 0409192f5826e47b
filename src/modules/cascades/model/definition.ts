/** The cascade definition's zod schema: what a YAML or JSON cascade may say, field by field. */
import * as z from 'zod';
import { triggerSchema } from './triggers.ts';

/** Phase, cascade and validator names: letters, digits, `_` and `-`. */
export const nameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ and - (starting with a letter, at most 64)');

/** Built-in tools a phase may list. */
export const BUILTIN_TOOLS = ['set_state', 'route_to', 'http_get', 'ask_human', 'sql', 'run_cascade', 'browser'] as const;
/** A built-in tool name. */
export type BuiltinTool = (typeof BUILTIN_TOOLS)[number];

const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 5m or 1h');

/** One input of `inputs_schema`: a JSON type and whether it must be given. */
const inputSpec = z.strictObject({
  type: z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array']),
  description: z.string().max(1000).optional(),
  required: z.boolean().default(true),
  default: z.unknown().optional(),
});

/**
 * A validator reference: a registered function (`no_pii`), a JSON schema, or a cascade (run as a child session with
 * input `output`; its last phase's answer `{valid, reason}` is the verdict).
 */
const validatorRef = z.union([nameSchema, z.strictObject({ json_schema: z.record(z.string(), z.unknown()) }), z.strictObject({ cascade: nameSchema })]);

/** A result table: `_` and a phase name. */
const tableName = z.string().regex(/^_[A-Za-z][A-Za-z0-9_-]{0,63}$/, "a result table: '_' and a phase name, such as _load");

/** Inputs of a child cascade: `{{ }}` templates (a template that is only `{{ x }}` keeps the value's type). */
const childInputs = z.record(nameSchema, z.unknown()).default({});

/** A sub-cascade per row of a result table. */
const forEachRow = z.strictObject({
  table: tableName,
  /** The saved cascade each row runs. */
  cascade: nameSchema,
  /** Templates over row, input, state and outputs. */
  inputs: childInputs,
  max_parallel: z.number().int().min(1).max(100).default(5),
});

/** A fire-and-forget child: started when the phase starts or ends; its result is logged on the parent. */
const asyncCascade = z.strictObject({
  cascade: nameSchema,
  inputs: childInputs,
  trigger: z.enum(['on_start', 'on_end']).default('on_end'),
});

/** One ward: which validator, and what a failure does. */
const ward = z.strictObject({
  validator: validatorRef,
  /** blocking aborts the session, retry re-runs the phase with the reason as feedback, advisory only logs. */
  mode: z.enum(['blocking', 'retry', 'advisory']),
  max_attempts: z.number().int().min(1).max(10).default(3),
});

/** Parallel attempts of one phase, one picked by an evaluator's tool call. */
const soundings = z.strictObject({
  factor: z.number().int().min(2).max(16),
  max_parallel: z.number().int().min(1).max(16).optional(),
  /** The evaluator's instructions; it answers by calling `pick_winner`. */
  evaluator: z.string().min(1).max(10_000),
  /** Attempts that fail the prefilter never reach the evaluator. */
  prefilter: z.enum(['json_ok', 'none']).default('none'),
  /** Models per attempt, cycled (default: the phase's model). */
  models: z.array(z.string().min(1)).min(1).optional(),
  evaluator_model: z.string().min(1).optional(),
  /** Vary the prompt per attempt: true cycles built-in variations, a list gives attempt i the i-th (cycled). */
  mutate: z.union([z.boolean(), z.array(z.string().min(1).max(2_000)).min(1).max(16)]).default(false),
  /** Refine the winner for more rounds: each round's attempts improve on it and the evaluator picks again (the standing winner included). */
  reforge: z
    .strictObject({
      rounds: z.number().int().min(1).max(5),
      factor: z.number().int().min(1).max(16).optional(),
      instructions: z.string().min(1).max(10_000).default('Improve this answer; keep what is good about it.'),
    })
    .optional(),
});

/**
 * What an unanswered question does when its timeout passes: go on without an answer, fail the session, or go on as if
 * the person had answered `default`.
 */
const onTimeout = z.union([z.enum(['continue', 'fail']), z.strictObject({ default: z.string().max(10_000) })]);
/** An on_timeout choice. */
export type OnTimeout = z.output<typeof onTimeout>;

/** A human checkpoint: the session parks (blocked) until someone answers through the API. */
const humanInput = z.strictObject({
  prompt: z.string().min(1).max(10_000),
  timeout: duration.optional(),
  on_timeout: onTimeout.default('fail'),
});

/** How long a question the model asks through `ask_human` waits, and what happens when nobody answers in time. */
const askHuman = z.strictObject({
  timeout: duration,
  on_timeout: onTimeout.default('continue'),
});

/** One phase. */
export const phaseSchema = z.strictObject({
  name: nameSchema,
  /** A `{{ }}` template over input, state and outputs; becomes the phase's system message. */
  instructions: z.string().max(100_000).optional(),
  tools: z.array(z.enum(BUILTIN_TOOLS)).default([]),
  model: z.string().min(1).optional(),
  max_turns: z.number().int().min(1).max(100).default(5),
  /** Phases this one may hand over to (through `route_to`); the first is the default next phase. */
  handoffs: z.array(nameSchema).default([]),
  /** Outputs of earlier phases this phase sees (it sees nothing else from them). */
  context: z.strictObject({ from: z.array(nameSchema).default([]) }).prefault({}),
  /** JSON Schema of the phase's output; the answer is requested as structured output and checked. */
  output_schema: z.record(z.string(), z.unknown()).optional(),
  soundings: soundings.optional(),
  wards: z.strictObject({ pre: z.array(ward).default([]), post: z.array(ward).default([]) }).optional(),
  /** A validator the output must pass; the phase is re-run (up to max_turns) until it does. */
  loop_until: validatorRef.optional(),
  human_input: humanInput.optional(),
  /** Timeout of the phase's `ask_human` questions (without it they wait until answered or cancelled). */
  ask_human: askHuman.optional(),
  /** A data phase: one query over the session's schema; its result becomes table `_<name>` and the phase output. */
  sql: z.string().min(1).max(20_000).optional(),
  for_each_row: forEachRow.optional(),
  async_cascades: z.array(asyncCascade).max(20).default([]),
});

/** The whole cascade. */
export const cascadeSchema = z.strictObject({
  cascade_id: nameSchema,
  description: z.string().max(2000).optional(),
  inputs_schema: z.record(nameSchema, inputSpec).default({}),
  /** The default model of every phase; `<provider>/<model>` or a bare name of the default provider. */
  model: z.string().min(1).optional(),
  /** Stop the session with a clear reason once its LLM calls have cost this much. */
  token_budget: z.number().positive().optional(),
  /** Hosts `http_get` may call (exact names or `*.domain`); empty means http_get refuses every host. */
  allow_hosts: z.array(z.string().min(1)).default([]),
  phases: z.array(phaseSchema).min(1).max(100),
  /** Cron schedules and bus events that start a session of this cascade once it is saved (model/triggers.ts). */
  triggers: z.array(triggerSchema).max(20).default([]),
});

/** A checked cascade definition. */
export type CascadeDefinition = z.output<typeof cascadeSchema>;
/** One checked phase. */
export type PhaseDefinition = z.output<typeof phaseSchema>;
/** A validator reference. */
export type ValidatorRef = z.output<typeof validatorRef>;
/** A for_each_row phase's settings. */
export type ForEachRow = z.output<typeof forEachRow>;
/** An async_cascades entry. */
export type AsyncCascade = z.output<typeof asyncCascade>;
/** A ward. */
export type Ward = z.output<typeof ward>;
