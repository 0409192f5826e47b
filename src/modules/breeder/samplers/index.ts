/**
 * The samplers' entry point: the `algorithm:` part of a breeder definition (zod schema, errors name the field)
 * and `createSampler`, which builds the named sampler for a space and its objectives' directions.
 */
import * as z from 'zod';
import { Invalid, zodIssues } from '../../../kernel/index.ts';
import { SpaceSchema } from '../model/space.ts';
import { createGridSampler, GridOptionsSchema } from './grid.ts';
import { createNsga2Sampler, Nsga2OptionsSchema } from './nsga2.ts';
import { createQmcSampler, QmcOptionsSchema } from './qmc.ts';
import { createRandomSampler } from './random.ts';
import { createTpeSampler, TpeOptionsSchema } from './tpe.ts';
import type { Direction, Sampler, SamplingProblem } from './types.ts';

export type { Direction, SampleRequest, SampleResult, Sampler, SamplerName, SamplingProblem, TrialRecord, TrialState } from './types.ts';
export { bestTrial, paretoFront } from './pareto.ts';
export { hypervolume } from './hypervolume.ts';

/** A seed: any safe integer. */
const Seed = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0);

/** `algorithm:` of a breeder definition; `options` are checked per sampler, so unknown or bad options name their field. */
export const SamplerConfigSchema = z.discriminatedUnion('sampler', [
  z.strictObject({ sampler: z.literal('tpe'), seed: Seed, options: TpeOptionsSchema.prefault({}) }),
  z.strictObject({ sampler: z.literal('nsga2'), seed: Seed, options: Nsga2OptionsSchema.prefault({}) }),
  z.strictObject({ sampler: z.literal('random'), seed: Seed, options: z.strictObject({}).default({}) }),
  z.strictObject({ sampler: z.literal('qmc'), seed: Seed, options: QmcOptionsSchema.prefault({}) }),
  z.strictObject({ sampler: z.literal('grid'), seed: Seed, options: GridOptionsSchema.prefault({}) }),
]);

/** What a breeder definition's `algorithm:` may hold (input form: defaults optional). */
export type SamplerConfigInput = z.input<typeof SamplerConfigSchema>;
/** A parsed `algorithm:` (defaults filled in). */
export type SamplerConfig = z.output<typeof SamplerConfigSchema>;

/** The objectives' directions: one or more. */
const DirectionsSchema = z.array(z.enum(['minimize', 'maximize'])).min(1);

/**
 * Builds the sampler that `config` names for `problem`. Throws Invalid (400) with one issue per bad field,
 * paths under `path` (e.g. `algorithm.options.gamma`, `algorithm.options.points.ratio`).
 */
export function createSampler(config: unknown, problem: SamplingProblem, path = 'algorithm'): Sampler {
  const parsed = SamplerConfigSchema.safeParse(config);
  if (!parsed.success) throw new Invalid('invalid sampler configuration', zodIssues(parsed.error, path));
  const space = SpaceSchema.safeParse(problem.space);
  if (!space.success) throw new Invalid('invalid search space', zodIssues(space.error, 'space'));
  const directions = DirectionsSchema.safeParse(problem.directions);
  if (!directions.success) throw new Invalid('invalid objectives', zodIssues(directions.error, 'objectives'));
  const p: SamplingProblem = { space: space.data, directions: directions.data as Direction[] };
  const c = parsed.data;
  switch (c.sampler) {
    case 'tpe':
      return createTpeSampler(p, c.seed, c.options);
    case 'nsga2':
      return createNsga2Sampler(p, c.seed, c.options);
    case 'random':
      return createRandomSampler(p, c.seed);
    case 'qmc':
      return createQmcSampler(p, c.seed, c.options);
    case 'grid':
      return createGridSampler(p, c.seed, c.options, path);
  }
}
