/** Where a breeder reads a number from (an HTTP JSON answer or a Prometheus instant query) and how it samples it. */
import * as z from 'zod';
import { parseDuration } from '../../../kernel/index.ts';

/** A duration string such as `30s`; the issue names the field when it is not one. */
export const DurationText = z.string().superRefine((s, ctx) => {
  try {
    parseDuration(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^duration: /, '') });
  }
});

/** `$.a.b[0]`: a JSON path of names and indexes only (no filters or wildcards). */
export const JSON_PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$/;

const HttpUrl = z.url({ protocol: /^https?$/, error: 'an http or https URL' });

/** A number read from an HTTP endpoint's JSON answer at `path`. */
export const HttpSourceSchema = z.strictObject({
  url: HttpUrl,
  path: z.string().regex(JSON_PATH, 'a JSON path such as $.a.b[0]').default('$'),
  headers: z.record(z.string(), z.string()).optional(),
  timeout: DurationText.default('10s'),
});

/** A Prometheus instant query; the value of its first series. */
export const PrometheusSourceSchema = z.strictObject({
  url: HttpUrl,
  query: z.string().min(1).max(4000),
  timeout: DurationText.default('10s'),
});

/** One of the source kinds. */
export const SourceSchema = z
  .strictObject({ http: HttpSourceSchema.optional(), prometheus: PrometheusSourceSchema.optional() })
  .refine((s) => (s.http ? 1 : 0) + (s.prometheus ? 1 : 0) === 1, { message: 'name exactly one source kind: http or prometheus' });

/** How a metric is sampled after each effectuation. */
const SamplingShape = {
  source: SourceSchema,
  /** Readings taken per trial. */
  samples: z.number().int().min(1).max(1000).default(1),
  /** Pause between readings. */
  interval: DurationText.default('1s'),
  aggregate: z.enum(['mean', 'median', 'min', 'max', 'last']).default('mean'),
  /** Wait after effectuation before the first reading. */
  settle: DurationText.default('0s'),
  /** Stop reading early once the readings' coefficient of variation is below this (needs ≥ 2 readings). */
  until_cv: z.number().positive().optional(),
};

/** A metric name: used as a JSON key, in metrics labels and in templates. */
export const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** An objective: a metric to minimize or maximize, optionally with the value that is good enough. */
export const ObjectiveSchema = z.strictObject({
  name: z.string().regex(METRIC_NAME, 'letters, digits and _'),
  direction: z.enum(['minimize', 'maximize']),
  quality_threshold: z.number().finite().optional(),
  ...SamplingShape,
});

/** An observation: read and recorded with each trial, never optimized. */
export const ObservationSchema = z.strictObject({ name: z.string().regex(METRIC_NAME, 'letters, digits and _'), ...SamplingShape });

/** A guardrail: a reading outside [min, max] fails the trial. */
export const GuardrailSchema = z
  .strictObject({ name: z.string().regex(METRIC_NAME, 'letters, digits and _'), min: z.number().finite().optional(), max: z.number().finite().optional(), ...SamplingShape })
  .refine((g) => g.min !== undefined || g.max !== undefined, { message: 'a guardrail needs min, max or both' });

/** A parsed source. */
export type Source = z.output<typeof SourceSchema>;
/** A parsed metric (objective, observation or guardrail): what reconnaissance needs. */
export type Metric = z.output<typeof ObservationSchema>;
/** A parsed objective. */
export type Objective = z.output<typeof ObjectiveSchema>;
/** A parsed guardrail. */
export type Guardrail = z.output<typeof GuardrailSchema>;
