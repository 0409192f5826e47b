/**
 * What the breeder pages plot, as plain data: each trial's value of one objective with the best-so-far line, and
 * the two-objective scatter with the Pareto front marked. Only complete trials with a finite value are drawn.
 */
import { paretoFront } from '../samplers/index.ts';
import type { TrialRecord } from '../samplers/index.ts';
import type { TrialRow } from '../store/index.ts';

/** One drawn trial. */
export interface PlotPoint {
  number: number;
  x: number;
  y: number;
  /** Guardrails satisfied (violations all 0). */
  feasible: boolean;
  /** On the Pareto front (scatter) or a new best (objective plot). */
  marked: boolean;
}

/** A finished chart: points in data units and the data ranges of both axes. */
export interface PlotData {
  points: PlotPoint[];
  /** The best-so-far staircase (objective plot only), in data units. */
  line: { x: number; y: number }[];
  xRange: [number, number];
  yRange: [number, number];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const feasibleOf = (t: TrialRow) => !t.constraints || t.constraints.every((c) => c <= 0);

function range(xs: number[]): [number, number] {
  if (xs.length === 0) return [0, 1];
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  // A flat series still needs a non-empty axis.
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** Objective `index` over trial numbers, with the best feasible value so far as a staircase. */
export function objectiveSeries(trials: readonly TrialRow[], index: number, direction: 'minimize' | 'maximize'): PlotData {
  const better = (a: number, b: number) => (direction === 'minimize' ? a < b : a > b);
  const points: PlotPoint[] = [];
  const line: { x: number; y: number }[] = [];
  let best: number | undefined;
  for (const t of trials) {
    const v = t.values?.[index];
    if (t.state !== 'complete' || !finite(v)) continue;
    const feasible = feasibleOf(t);
    const improves = feasible && (best === undefined || better(v, best));
    if (improves) {
      if (best !== undefined) line.push({ x: t.number, y: best });
      best = v;
      line.push({ x: t.number, y: v });
    }
    points.push({ number: t.number, x: t.number, y: v, feasible, marked: improves });
  }
  const last = trials.at(-1)?.number;
  if (best !== undefined && last !== undefined && line.at(-1)!.x < last) line.push({ x: last, y: best });
  return { points, line, xRange: range(trials.map((t) => t.number)), yRange: range(points.map((p) => p.y)) };
}

/** Objectives `a` and `b` of complete trials, the Pareto front (over all objectives) marked. */
export function paretoScatter(trials: readonly TrialRow[], directions: readonly ('minimize' | 'maximize')[], a = 0, b = 1): PlotData {
  const drawn = trials.filter((t) => t.state === 'complete' && finite(t.values?.[a]) && finite(t.values?.[b]));
  const records: TrialRecord[] = drawn.map((t) => ({ params: t.params, state: 'complete', values: t.values as number[], constraints: t.constraints ?? undefined }));
  const front = new Set(paretoFront(records, directions).map((i) => drawn[i]!.number));
  const points = drawn.map((t) => ({ number: t.number, x: t.values![a] as number, y: t.values![b] as number, feasible: feasibleOf(t), marked: front.has(t.number) }));
  return { points, line: [], xRange: range(points.map((p) => p.x)), yRange: range(points.map((p) => p.y)) };
}
