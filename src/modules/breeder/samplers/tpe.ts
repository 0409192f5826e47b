/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011; Optuna's TPESampler; multivariate as in Falkner et al.
 * 2018 / Optuna `multivariate=True`; several objectives as in Ozaki et al. 2020; constraints as Optuna's
 * constrained TPE). After `n_startup_trials` random trials, the history is split into a good group (the best
 * gamma fraction) and the rest; a Parzen estimator of each gives l(x) and g(x); `n_ei_candidates` draws from l
 * are scored by log l(x) - log g(x) and the best is proposed.
 */
import * as z from 'zod';
import type { Params } from '../model/space.ts';
import type { Dim } from './encoding.ts';
import { decodeNumeric, dimsOf, encodeCategorical, encodeNumeric } from './encoding.ts';
import { observe, type Observed } from './history.ts';
import { ParzenEstimator, type ParzenSettings } from './parzen.ts';
import { randomParams } from './random.ts';
import { Rng, STREAM } from './rng.ts';
import { createSplitter } from './tpe-split.ts';
import type { Sampler, SamplingProblem } from './types.ts';

/** Most random start-up trials (more than a breeder's max_trials allows is just random search). */
const MAX_STARTUP = 1_000_000;
/** Most candidates scored per proposal. */
export const MAX_EI_CANDIDATES = 10_000;

/** Options of the TPE sampler (names follow Optuna's where the idea is the same). */
export const TpeOptionsSchema = z.strictObject({
  /** Random trials before the model is used. */
  n_startup_trials: z.number().int().min(0).max(MAX_STARTUP).default(10),
  /** Draws from l(x) scored per proposal (bounded: each is scored against every kernel, and millions would exhaust the worker's memory). */
  n_ei_candidates: z.number().int().min(1).max(MAX_EI_CANDIDATES).default(24),
  /** Fraction of the finished trials in the good group, rounded up. Default 0.05 with one objective (Optuna: 0.1; 0.05 measured better, see docs/breeder.md), 0.1 with several (as Optuna). */
  gamma: z.number().gt(0).max(1).optional(),
  /** Largest good group with one objective (Optuna: 25); several objectives are not capped. */
  gamma_max: z.number().int().min(1).default(25),
  /** Smallest good group (when that many trials have finished). */
  gamma_min: z.number().int().min(1).default(1),
  /** Widen l(x)'s kernels by this factor when drawing candidates (they are scored with the unwidened ones). */
  candidate_widen: z.number().min(1).default(1),
  /** Weight of the prior kernel against each observation's weight of 1. */
  prior_weight: z.number().gt(0).default(1),
  /** Multivariate TPE: one joint estimator over all parameters instead of one per parameter. */
  multivariate: z.boolean().default(true),
  /** Kernel widths of l(x): `scott` (normal-reference, shrinks as good trials concentrate), `optuna` (neighbour distances) or `iqr` (the reference TPE of optuna issue #2871; favours optima near the middle of the range). */
  bandwidth: z.enum(['scott', 'optuna', 'iqr']).default('scott'),
  /** Kernel widths of g(x): `optuna` (neighbour distances: a sharp memory of where bad trials were), `scott` or `iqr` (as l's rules). */
  g_bandwidth: z.enum(['scott', 'optuna', 'iqr']).default('optuna'),
  /** scott: multiplier on the normal-reference width. */
  bandwidth_factor: z.number().gt(0).default(1),
  /** scott: smallest width as a fraction of each parameter's range. */
  min_bandwidth: z.number().gt(0).max(1).default(0.001),
  /** Clip widths below at range / min(100, 1 + count) (Optuna's magic clip; count: see magic_clip_count). */
  consider_magic_clip: z.boolean().default(true),
  /** What the magic clip counts: the estimator's kernels (Optuna) or all finished trials (kernels may narrow as trials accumulate). */
  magic_clip_count: z.enum(['kernels', 'trials']).default('trials'),
  /** optuna: let the outermost kernels reach the bounds. */
  consider_endpoints: z.boolean().default(false),
  /** Give older trials of the bad group less weight (Optuna's default_weights ramp past 25 trials). */
  age_weights: z.boolean().default(true),
  /** Count other workers' running trials as bad (constant liar), so parallel workers spread out. */
  constant_liar: z.boolean().default(true),
  /** Count failed trials as bad, so the sampler moves away from where trials fail. */
  failed_as_bad: z.boolean().default(true),
}).superRefine((o, ctx) => {
  // Both bounds apply to the same group size, so a minimum above the maximum has no meaning: refuse it here rather than let one silently win.
  if (o.gamma_min > o.gamma_max) ctx.addIssue({ code: 'custom', path: ['gamma_min'], message: `at most gamma_max (${o.gamma_max})` });
});

/** Parsed TPE options. */
export type TpeOptions = z.output<typeof TpeOptionsSchema>;

/** Optuna's default_weights: 1 each up to 25 trials; beyond that the oldest ramp from 1/n up to 1. */
export function ageWeights(n: number, enabled: boolean): Float64Array {
  return ageWeightsInto(new Float64Array(n), n, enabled);
}

/** ageWeights written into the first n values of `w` (a buffer the sampler keeps); answers `w`. */
function ageWeightsInto(w: Float64Array, n: number, enabled: boolean): Float64Array {
  w.fill(1, 0, n);
  if (!enabled || n < 25) return w;
  const ramp = n - 25;
  for (let i = 0; i < ramp; i++) w[i] = ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1);
  return w;
}

/** `buf` if it holds n values, else a new one grown by half at least (the history grows one trial at a time). */
function fit(buf: Float64Array, n: number): Float64Array {
  return buf.length >= n ? buf : new Float64Array(Math.max(n, Math.ceil(buf.length * 1.5)));
}

/** This trial's internal values over all the space's dims, encoded once and kept on the observation (observe() hands back the same object while the trial is unchanged). */
function encodedRow(dims: readonly Dim[], t: Observed): Float64Array {
  let row = t.encoded;
  if (!row) {
    row = new Float64Array(dims.length);
    for (let j = 0; j < dims.length; j++) {
      const d = dims[j]!;
      row[j] = d.kind === 'categorical' ? encodeCategorical(d, t.params[d.name]) : encodeNumeric(d, t.params[d.name] as number);
    }
    t.encoded = row;
  }
  return row;
}

/**
 * Internal values of the observations, per dim of `group`, from their kept encoded rows (encodedRow), so a sample
 * re-encodes only new trials. Written into `buffers` (one per dim of the space, kept by the sampler and grown as
 * needed: an estimator copies what it is given, so the next call may write over them); answers views of length n.
 */
function observations(dims: readonly Dim[], group: readonly Dim[], trials: readonly Observed[], buffers: Float64Array[]): Float64Array[] {
  const n = trials.length;
  const columns = group.map((d) => dims.indexOf(d));
  const out = columns.map((c) => (buffers[c] = fit(buffers[c]!, n)));
  for (let i = 0; i < n; i++) {
    const row = encodedRow(dims, trials[i]!);
    for (let k = 0; k < columns.length; k++) out[k]![i] = row[columns[k]!]!;
  }
  return out.map((b) => b.subarray(0, n));
}

/** What of the settings' clip count matters: only min(100, 1 + clipCount) (parzen.ts); -1 when the kernel count decides. */
function clipOf(s: ParzenSettings): number {
  return s.clipCount === undefined ? -1 : Math.min(100, 1 + s.clipCount);
}

/** True when both lists hold the same observations in the same order (observe() keeps an unchanged trial's object). */
function sameTrials(a: readonly Observed[], b: readonly Observed[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A TPE sampler. */
export function createTpeSampler(problem: SamplingProblem, seed: number, options: TpeOptions): Sampler {
  const dims = dimsOf(problem.space);
  const multiObjective = problem.directions.length > 1;
  const settings: ParzenSettings = {
    priorWeight: options.prior_weight,
    bandwidth: options.bandwidth,
    magicClip: options.consider_magic_clip,
    endpoints: options.consider_endpoints,
    bandwidthFactor: options.bandwidth_factor,
    minBandwidth: options.min_bandwidth,
  };

  // Buffers written over by every proposal (estimators copy what they are given): observations per dim of the
  // space, weights and keys. A history that grows one trial at a time then allocates little per proposal.
  const obsBuffers: Float64Array[] = dims.map(() => new Float64Array(0));
  let weightBuffer: Float64Array = new Float64Array(0);
  let keyBuffer: Float64Array = new Float64Array(0);
  /**
   * g(x) of the last proposal, per group: kept so that the next one, which usually sees the same bad trials plus the
   * newest, updates it (ParzenEstimator.update) instead of building one kernel per bad trial again; it is rebuilt
   * when a trial left the bad group or the split moved trials between the groups. Same densities either way.
   */
  const gOf = new Map<readonly Dim[], { above: Observed[]; clip: number; g: ParzenEstimator }>();
  const gFor = (group: readonly Dim[], above: Observed[], s: ParzenSettings): ParzenEstimator => {
    const clip = clipOf(s);
    const kept = gOf.get(group);
    // The very same bad trials as last time: nothing to update (the fixed-history case, e.g. several workers asking in turn).
    if (kept && kept.clip === clip && sameTrials(kept.above, above)) return kept.g;
    const n = above.length;
    const gObs = observations(dims, group, above, obsBuffers);
    weightBuffer = fit(weightBuffer, n);
    const gWeights = ageWeightsInto(weightBuffer, n, options.age_weights).subarray(0, n);
    const gSettings: ParzenSettings = { ...s, bandwidth: options.g_bandwidth };
    keyBuffer = fit(keyBuffer, n);
    for (let i = 0; i < n; i++) keyBuffer[i] = above[i]!.position;
    const gKeys = keyBuffer.subarray(0, n);
    let g = kept?.g;
    if (!g?.update(gObs, gWeights, gSettings, gKeys)) g = new ParzenEstimator(group, gObs, gWeights, gSettings, gKeys);
    gOf.set(group, { above, clip, g });
    return g;
  };

  /**
   * l(x) of the last proposal, per group, with the good trials it was built from: kept while the next proposal sees
   * the very same good trials (same observations, same order) and the same width clip, which is most proposals once
   * the history is long (a new trial rarely enters the best few percent). Drawing and scoring leave an estimator
   * unchanged (a grid's cell masses are cached, not altered), so reusing it proposes exactly what a new one would.
   */
  const lOf = new Map<readonly Dim[], { below: Observed[]; clip: number; l: ParzenEstimator }>();
  const lFor = (group: readonly Dim[], below: Observed[], s: ParzenSettings): ParzenEstimator => {
    const clip = clipOf(s);
    const kept = lOf.get(group);
    if (kept && kept.clip === clip && sameTrials(kept.below, below)) return kept.l;
    const wBelow = multiObjective ? new Float64Array(below.length).fill(1) : ageWeights(below.length, options.age_weights);
    const l = new ParzenEstimator(group, observations(dims, group, below, obsBuffers), wBelow, s);
    lOf.set(group, { below, clip, l });
    return l;
  };

  /** Best of `n_ei_candidates` draws from l over the given dims (all of them, or one in univariate mode). */
  const propose = (group: readonly Dim[], below: Observed[], above: Observed[], rng: Rng, finished: number): number[] => {
    const s = options.magic_clip_count === 'trials' ? { ...settings, clipCount: finished } : settings;
    const l = lFor(group, below, s);
    const g = gFor(group, above, s);
    const n = options.n_ei_candidates;
    const cands = l.sample(rng, n, options.candidate_widen);
    const ll = l.logPdf(cands, n);
    const lg = g.logPdf(cands, n);
    let best = 0;
    for (let c = 1; c < n; c++) if (ll[c]! - lg[c]! > ll[best]! - lg[best]!) best = c;
    return cands.map((xs) => xs[best]!);
  };

  /** The split, remembering the last one: a history that only grew is split by looking at the new trials. */
  const split = createSplitter();

  /** Univariate groups, made once so that each keeps its g(x) across proposals. */
  const perDim = dims.map((d) => [d]);

  return {
    name: 'tpe',
    sample: ({ trials, number }) => {
      const observed = observe(trials, dims, problem.directions);
      let finished = 0;
      for (let i = 0; i < observed.length; i++) if (observed[i]!.state === 'complete' || observed[i]!.state === 'pruned') finished++;
      if (finished < options.n_startup_trials) return { kind: 'params', params: randomParams(dims, new Rng(seed, number, STREAM.random)) };
      const byGamma = multiObjective ? Math.ceil((options.gamma ?? 0.1) * finished) : Math.min(Math.ceil((options.gamma ?? 0.05) * finished), options.gamma_max);
      const nBelow = Math.min(finished, Math.max(byGamma, options.gamma_min));
      const { below, above } = split(observed, nBelow, { constantLiar: options.constant_liar, failedAsBad: options.failed_as_bad });
      const rng = new Rng(seed, number, STREAM.tpe);
      const groups = options.multivariate ? [dims] : perDim;
      const params: Params = {};
      for (const group of groups) {
        const x = propose(group, below, above, rng, finished);
        group.forEach((d, j) => (params[d.name] = d.kind === 'categorical' ? d.choices[x[j]!]! : decodeNumeric(d, x[j]!)));
      }
      return { kind: 'params', params };
    },
  };
}
