/**
 * How samplers see parameters: numeric ones as a number in an internal scale (log for `log: true`), with a step
 * when they are discrete; categorical ones as a choice index. Also maps [0, 1) onto each parameter for the
 * random and QMC samplers.
 */
import type { CategoricalParam, ParamSpec, ParamValue, Params, Space } from '../model/space.ts';
import { paramValueProblem } from '../model/space.ts';

/** A numeric parameter in its internal scale. */
export interface NumericDim {
  kind: 'numeric';
  name: string;
  spec: Exclude<ParamSpec, CategoricalParam>;
  /** Internal bounds of the kernel domain: log-scaled when `log`; widened by half a step when discrete (as Optuna does). */
  lo: number;
  hi: number;
  /** The grid in the original scale (step, or 1 for int), or null for a continuous float. */
  step: number | null;
  log: boolean;
}

/** A categorical parameter. */
export interface CategoricalDim {
  kind: 'categorical';
  name: string;
  spec: CategoricalParam;
  choices: readonly ParamValue[];
}

/** One parameter as samplers see it. */
export type Dim = NumericDim | CategoricalDim;

/** The dims of a space, in the space's key order (which fixes the order of random draws). */
export function dimsOf(space: Space): Dim[] {
  return Object.entries(space).map(([name, spec]): Dim => {
    if (spec.type === 'categorical') return { kind: 'categorical', name, spec, choices: spec.choices };
    const step = spec.type === 'int' ? (spec.step ?? 1) : (spec.step ?? null);
    const log = spec.log;
    let lo = spec.low;
    let hi = spec.high;
    if (step !== null) {
      lo -= step / 2;
      hi += step / 2;
    }
    if (log) {
      lo = Math.log(Math.max(lo, spec.low / 2));
      hi = Math.log(hi);
    }
    return { kind: 'numeric', name, spec, lo, hi, step, log };
  });
}

/** Removes floating-point noise such as 0.30000000000000004 from a grid value. */
export function tidy(v: number): number {
  return Number.parseFloat(v.toPrecision(14));
}

/** The parameter value nearest to an internal number: back from log, onto the grid, within bounds. */
export function decodeNumeric(dim: NumericDim, x: number): number {
  const { spec } = dim;
  let v = dim.log ? Math.exp(x) : x;
  if (dim.step !== null) v = spec.low + Math.round((v - spec.low) / dim.step) * dim.step;
  v = Math.min(spec.high, Math.max(spec.low, v));
  return spec.type === 'int' ? Math.round(v) : tidy(v);
}

/** A parameter value in the internal scale (log when `log`). */
export function encodeNumeric(dim: NumericDim, v: number): number {
  return dim.log ? Math.log(v) : v;
}

/** The index of a categorical value (the value must be a valid choice). */
export function encodeCategorical(dim: CategoricalDim, v: unknown): number {
  return dim.choices.findIndex((c) => c === v);
}

/** Maps u in [0, 1) onto a parameter so that a uniform u gives the sampler's prior: uniform over choices and grid points, log-uniform on a log scale. */
export function fromUnit(dim: Dim, u: number): ParamValue {
  if (dim.kind === 'categorical') return dim.choices[Math.min(dim.choices.length - 1, Math.floor(u * dim.choices.length))]!;
  const { spec } = dim;
  if (dim.log) return decodeNumeric(dim, dim.lo + u * (dim.hi - dim.lo));
  if (dim.step !== null) {
    const n = Math.round((spec.high - spec.low) / dim.step) + 1;
    const k = Math.min(n - 1, Math.floor(u * n));
    return decodeNumeric(dim, spec.low + k * dim.step);
  }
  return Math.min(spec.high, spec.low + u * (spec.high - spec.low));
}

/** This space's part of a trial's params, or null when the trial does not fit (a parameter missing or out of range). */
export function paramsInSpace(dims: readonly Dim[], params: Readonly<Record<string, unknown>>): Params | null {
  const out: Params = {};
  for (const d of dims) {
    const v = params[d.name];
    if (v === undefined || paramValueProblem(d.spec, v) !== null) {
      // A cooperating breeder may use another step; a numeric value inside the bounds still says where it was tried.
      if (d.kind === 'numeric' && typeof v === 'number' && Number.isFinite(v) && v >= d.spec.low && v <= d.spec.high) {
        out[d.name] = d.spec.type === 'int' ? Math.round(v) : v;
        continue;
      }
      return null;
    }
    out[d.name] = v as ParamValue;
  }
  return out;
}
