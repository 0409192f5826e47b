/** Standard optimisation test functions with known optima, shared by the sampler tests and bench/breeder-samplers.ts. */

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

/** Branin on x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 at three points. */
export function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}
/** Branin's global minimum. */
export const BRANIN_MIN = 0.397887357729738;

const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));
const H6_ALPHA = [1, 1.2, 3, 3.2];

/** Hartmann 6-D on [0, 1]^6; minimum -3.32237. */
export function hartmann6(x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H6_A[i]![j]! * (x[j]! - H6_P[i]![j]!) ** 2;
    s -= H6_ALPHA[i]! * Math.exp(-inner);
  }
  return s;
}
/** Hartmann6's global minimum. */
export const HARTMANN6_MIN = -3.322368011415515;

/** ZDT1 (Zitzler, Deb, Thiele 2000) on [0, 1]^n, two objectives to minimise; its front is f2 = 1 - sqrt(f1). */
export function zdt1(x: readonly number[]): [number, number] {
  const f1 = x[0]!;
  let s = 0;
  for (let i = 1; i < x.length; i++) s += x[i]!;
  const g = 1 + (9 * s) / (x.length - 1);
  return [f1, g * (1 - Math.sqrt(f1 / g))];
}

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
