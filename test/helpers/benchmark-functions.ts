/**
 * Standard optimisation test functions with known optima, shared by the sampler tests and bench/breeder-samplers.ts.
 * Branin, Hartmann6 and ZDT1 are the simulated target's own (`capstan dev target` computes them): re-exported here.
 */
export { branin, hartmann6, zdt1 } from '../../src/modules/breeder/dev/functions.ts';

/** Sphere: sum of squares; minimum 0 at the origin. */
export function sphere(x: readonly number[]): number {
  return x.reduce((s, v) => s + v * v, 0);
}

/** Rosenbrock: sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2; minimum 0 at (1, ..., 1). */
export function rosenbrock(x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
  return s;
}

/** Branin's global minimum. */
export const BRANIN_MIN = 0.397887357729738;

/** Hartmann6's global minimum. */
export const HARTMANN6_MIN = -3.322368011415515;

/** ZDT2 on [0, 1]^n; its (concave) front is f2 = 1 - f1^2. */
export function zdt2(x: readonly number[]): [number, number] {
  const f1 = x[0]!;
  let s = 0;
  for (let i = 1; i < x.length; i++) s += x[i]!;
  const g = 1 + (9 * s) / (x.length - 1);
  return [f1, g * (1 - (f1 / g) ** 2)];
}

/** Hypervolume of the true ZDT1 front against (r, r), r ≥ 1: ∫0..1 (r - 1 + sqrt(f1)) df1 + (r - 1) r. */
export function zdt1FrontHypervolume(r: number): number {
  return r - 1 + 2 / 3 + (r - 1) * r;
}

/** Hypervolume of the true ZDT2 front against (r, r), r ≥ 1: ∫0..1 (r - 1 + f1^2) df1 + (r - 1) r. */
export function zdt2FrontHypervolume(r: number): number {
  return r - 1 + 1 / 3 + (r - 1) * r;
}
