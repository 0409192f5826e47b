/**
 * A breeder definition (YAML or JSON): space, objectives, observations, guardrails, effectuation, run limits,
 * algorithm. Parsed with zod; every error names its field. Templates are checked at parse time.
 */
import * as z from 'zod';
import { collectTemplateRefs, Invalid, zodIssues, type FieldIssue } from '../../../kernel/index.ts';
import { createSampler, SamplerConfigSchema } from '../samplers/index.ts';
import { SpaceSchema, validateParams } from './space.ts';
import { effectuationTemplate, EffectuationSchema } from './effectuation.ts';
import { DurationText, GuardrailSchema, ObjectiveSchema, ObservationSchema } from './source.ts';

/** Breeder names: used in URLs, metrics labels and job ids. */
export const BREEDER_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * The shape of a breeder id (a UUID, kernel/ids.ts). Routes take an id or a name, so a name of this shape could
 * shadow another breeder's id: such names are refused.
 */
export const ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Limits of a run; the breeder completes at whichever comes first. */
export const RunSchema = z.strictObject({
  workers: z.number().int().min(1).max(64).default(1),
  max_trials: z.number().int().min(1).max(1_000_000).default(100),
  max_duration: DurationText.optional(),
  stop_when_quality_achieved: z.boolean().default(false),
});

/** What to do after consecutive failed trials of one worker: apply known-good parameters, then pause, stop or continue. */
export const RollbackSchema = z.strictObject({
  after_consecutive_failures: z.number().int().min(1).max(1000),
  to: z.enum(['previous', 'best', 'baseline']),
  baseline: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** `pause` and `stop` both end the run (status stopped, with the reason); `start` resumes it. */
  then: z.enum(['pause', 'stop', 'continue']).default('pause'),
});

/** Cooperation with other breeders of the same group: what this breeder shares with them (runtime/cooperation.ts). */
export const CooperationSchema = z.strictObject({
  group: z.string().regex(BREEDER_NAME),
  share: z.enum(['all', 'best', 'extremes', 'probabilistic']).default('all'),
  probability: z.number().min(0).max(1).optional(),
  top: z.number().min(0).max(1).optional(),
});

/** The whole definition. */
export const DefinitionSchema = z.strictObject({
  name: z
    .string()
    .regex(BREEDER_NAME, 'letters, digits, _ and - (1 to 64)')
    .refine((n) => !ID_SHAPE.test(n), 'has the shape of an id (8-4-4-4-12 hex digits); routes take an id or a name, so choose another name'),
  description: z.string().max(2000).optional(),
  space: SpaceSchema,
  objectives: z.array(ObjectiveSchema).min(1).max(8),
  observations: z.array(ObservationSchema).max(32).default([]),
  guardrails: z.array(GuardrailSchema).max(32).default([]),
  effectuation: EffectuationSchema,
  rollback: RollbackSchema.optional(),
  run: RunSchema.prefault({}),
  algorithm: SamplerConfigSchema.default({ sampler: 'tpe', seed: 0, options: {} } as never),
  cooperation: CooperationSchema.optional(),
});

/** A parsed breeder definition. */
export type Definition = z.output<typeof DefinitionSchema>;

const TEMPLATE_ROOTS = ['params', 'trial', 'breeder'] as const;

/** Template problems in the effectuation (unknown roots, bad syntax), named by field. */
function templateIssues(d: Definition): FieldIssue[] {
  const { template, path } = effectuationTemplate(d.effectuation);
  return collectTemplateRefs(template, path, { roots: TEMPLATE_ROOTS }).issues;
}

/** Names used twice among objectives, observations and guardrails (they share one values namespace). */
function nameIssues(d: Definition): FieldIssue[] {
  const seen = new Set<string>();
  const issues: FieldIssue[] = [];
  for (const [list, key] of [[d.objectives, 'objectives'], [d.observations, 'observations'], [d.guardrails, 'guardrails']] as const) {
    list.forEach((m, i) => {
      if (seen.has(m.name)) issues.push({ path: `${key}.${i}.name`, message: `'${m.name}' is used twice` });
      seen.add(m.name);
    });
  }
  return issues;
}

/** A baseline rollback needs baseline parameters that fit the space. */
function rollbackIssues(d: Definition): FieldIssue[] {
  const rb = d.rollback;
  if (!rb) return [];
  if (rb.to === 'baseline' && !rb.baseline) return [{ path: 'rollback.baseline', message: "required when to is 'baseline'" }];
  if (!rb.baseline) return [];
  return validateParams(d.space, rb.baseline).map((i) => ({ path: `rollback.baseline.${i.path}`, message: i.message }));
}

/**
 * Problems the sampler finds when it is built for this space (a grid: a float without a point count, an axis or a
 * grid too large): reported when the definition is created, not at the first trial.
 */
function samplerIssues(d: Definition): FieldIssue[] {
  try {
    createSampler(d.algorithm, { space: d.space, directions: d.objectives.map((o) => o.direction) });
    return [];
  } catch (err) {
    if (err instanceof Invalid) return err.issues;
    throw err;
  }
}

/** Parses an already-decoded definition; throws Invalid naming every bad field. */
export function parseDefinition(input: unknown): Definition {
  const r = DefinitionSchema.safeParse(input);
  if (!r.success) throw new Invalid('invalid breeder definition', zodIssues(r.error));
  const issues = [...templateIssues(r.data), ...nameIssues(r.data), ...rollbackIssues(r.data)];
  if (!issues.length) issues.push(...samplerIssues(r.data));
  if (issues.length) throw new Invalid('invalid breeder definition', issues);
  return r.data;
}
