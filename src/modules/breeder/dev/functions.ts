/** Benchmark functions the simulated target computes from the applied parameters (known optima, so a test can tell progress). */

/** Branin on x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 at three points. */
export function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

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

/** ZDT1 on [0, 1]^n (n ≥ 2): two objectives to minimise, front f2 = 1 - sqrt(f1). */
export function zdt1(x: readonly number[]): [number, number] {
  const f1 = x[0]!;
  let s = 0;
  for (let i = 1; i < x.length; i++) s += x[i]!;
  const g = 1 + (9 * s) / (x.length - 1);
  return [f1, g * (1 - Math.sqrt(f1 / g))];
}
