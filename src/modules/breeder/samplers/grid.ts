/**
 * The grid sampler: every combination of the parameters' grid values, each tried once, in a seeded random order.
 * A point counts as taken once any trial of the history (any state, running included, cooperating breeders'
 * too) has it; when every point is taken the sampler answers `{ kind: 'exhausted' }` and the loop stops
 * sampling (the breeder completes once its running trials finish).
 */
import * as z from 'zod';
import { Invalid } from '../../../kernel/index.ts';
import type { ParamValue, Params } from '../model/space.ts';
import type { Dim } from './encoding.ts';
import { dimsOf, paramsInSpace, tidy } from './encoding.ts';
import { Rng, STREAM } from './rng.ts';
import type { Sampler, SamplingProblem } from './types.ts';

/**
 * Most values on one axis. Axes are built as lists when the sampler is made, so an int range of millions would
 * hold the worker (and the server's event loop) for seconds to minutes before its first trial; such a parameter
 * is sampled on fewer points with `points`.
 */
export const MAX_AXIS = 10_000;

/** Options of the grid sampler. */
export const GridOptionsSchema = z.strictObject({
  /** Number of evenly spaced values (geometric on a log scale) for a numeric parameter, by name; overrides its step. */
  points: z.record(z.string(), z.number().int().min(1).max(MAX_AXIS)).default({}),
  /** Number of values for every float parameter that has neither a step nor an entry in `points`. */
  default_points: z.number().int().min(1).max(MAX_AXIS).optional(),
});

/** Parsed grid options. */
export type GridOptions = z.output<typeof GridOptionsSchema>;

/** Largest grid we index (mixed-radix indices must stay exact doubles). */
const MAX_POINTS = 2 ** 52;


/** The values of one parameter on the grid; null when a continuous float has no count; the count alone when it is above MAX_AXIS. */
function valuesOf(d: Dim, options: GridOptions): ParamValue[] | null | number {
  if (d.kind === 'categorical') return [...d.choices];
  const { spec } = d;
  const n = options.points[d.name] ?? (d.step === null ? options.default_points : undefined);
  if (n === undefined) {
    if (d.step === null) return spec.low === spec.high ? [spec.low] : null;
    const count = Math.round((spec.high - spec.low) / d.step) + 1;
    if (count > MAX_AXIS) return count;
    return Array.from({ length: count }, (_, k) => tidy(spec.low + k * d.step!));
  }
  const at = (t: number) => (spec.log ? Math.exp(Math.log(spec.low) + t * (Math.log(spec.high) - Math.log(spec.low))) : spec.low + t * (spec.high - spec.low));
  const raw = Array.from({ length: n }, (_, k) => at(n === 1 ? 0.5 : k / (n - 1)));
  const snapped = raw.map((v) => (spec.type === 'int' ? Math.round(v) : tidy(v)));
  return [...new Set(snapped)];
}

/** Key under which a value is looked up on its axis. */
const keyOf = (v: unknown) => (typeof v === 'number' ? `n${tidy(v)}` : `${typeof v}:${String(v)}`);

/** The grid's axes, or the issues that stop it from being built (paths under `path`). */
export function gridAxes(dims: readonly Dim[], options: GridOptions, path: string): ParamValue[][] {
  const issues: { path: string; message: string }[] = [];
  for (const name of Object.keys(options.points)) {
    const d = dims.find((x) => x.name === name);
    if (!d) issues.push({ path: `${path}.options.points.${name}`, message: 'not a parameter of the space' });
    else if (d.kind === 'categorical') issues.push({ path: `${path}.options.points.${name}`, message: 'a categorical parameter uses all its choices' });
  }
  const axes = dims.map((d) => {
    const values = valuesOf(d, options);
    if (values === null) issues.push({ path: `${path}.options.points.${d.name}`, message: 'a float parameter without a step needs a number of grid points (or options.default_points)' });
    if (typeof values === 'number') issues.push({ path: `${path}.options.points.${d.name}`, message: `the grid would have ${values} values of ${d.name}, more than ${MAX_AXIS}: give it fewer points here` });
    return Array.isArray(values) ? values : [];
  });
  const total = axes.reduce((p, a) => p * Math.max(1, a.length), 1);
  if (total > MAX_POINTS) issues.push({ path: `${path}.options`, message: `the grid has ${total} points, more than ${MAX_POINTS}` });
  if (issues.length > 0) throw new Invalid('the grid sampler cannot build its grid', issues);
  return axes;
}

/** A grid sampler; throws Invalid when a float parameter has no grid. */
export function createGridSampler(problem: SamplingProblem, seed: number, options: GridOptions, path = 'algorithm'): Sampler & { size: number } {
  const dims = dimsOf(problem.space);
  const axes = gridAxes(dims, options, path);
  const lookup = axes.map((a) => new Map(a.map((v, i) => [keyOf(v), i])));
  const size = axes.reduce((p, a) => p * a.length, 1);

  const indexOf = (params: Params): number | null => {
    let index = 0;
    for (let j = 0; j < dims.length; j++) {
      const i = lookup[j]!.get(keyOf(params[dims[j]!.name]));
      if (i === undefined) return null;
      index = index * axes[j]!.length + i;
    }
    return index;
  };
  const pointAt = (index: number): Params => {
    const at: number[] = [];
    for (let j = dims.length - 1; j >= 0; j--) {
      at[j] = index % axes[j]!.length;
      index = Math.floor(index / axes[j]!.length);
    }
    return Object.fromEntries(dims.map((d, j) => [d.name, axes[j]![at[j]!]!]));
  };

  return {
    name: 'grid',
    size,
    sample: ({ trials, number }) => {
      const taken = new Set<number>();
      for (const t of trials) {
        const params = paramsInSpace(dims, t.params);
        const i = params === null ? null : indexOf(params);
        if (i !== null) taken.add(i);
      }
      if (taken.size >= size) return { kind: 'exhausted' };
      const rng = new Rng(seed, number, STREAM.grid);
      // Few points taken: draw until a free one comes up (expected < 2 draws). Many taken: list the free ones.
      if (taken.size * 2 < size) {
        for (;;) {
          const i = rng.int(size);
          if (!taken.has(i)) return { kind: 'params', params: pointAt(i) };
        }
      }
      const free: number[] = [];
      for (let i = 0; i < size; i++) if (!taken.has(i)) free.push(i);
      return { kind: 'params', params: pointAt(free[rng.int(free.length)]!) };
    },
  };
}
