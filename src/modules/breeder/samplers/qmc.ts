/**
 * The QMC sampler: trial `number` takes point `number` of a scrambled Halton sequence (see halton.ts), so the
 * trials of one breeder cover the space more evenly than independent random draws. Unscrambled, point 0
 * (all zeros) is skipped.
 */
import * as z from 'zod';
import type { Params } from '../model/space.ts';
import { dimsOf, fromUnit } from './encoding.ts';
import { haltonPoint } from './halton.ts';
import type { Sampler, SamplingProblem } from './types.ts';

/** Options of the QMC sampler. */
export const QmcOptionsSchema = z.strictObject({
  /** Owen-scramble the digits (seeded); without it the sequence is the plain Halton one, the same for every seed. */
  scramble: z.boolean().default(true),
});

/** Parsed QMC options. */
export type QmcOptions = z.output<typeof QmcOptionsSchema>;

/** A QMC sampler over the problem's space. */
export function createQmcSampler(problem: SamplingProblem, seed: number, options: QmcOptions): Sampler {
  const dims = dimsOf(problem.space);
  const scrambleSeed = options.scramble ? seed : null;
  return {
    name: 'qmc',
    sample: ({ number }) => {
      const u = haltonPoint(options.scramble ? number : number + 1, dims.length, scrambleSeed);
      const params: Params = {};
      dims.forEach((d, i) => (params[d.name] = fromUnit(d, u[i]!)));
      return { kind: 'params', params };
    },
  };
}
