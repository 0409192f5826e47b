/**
 * The trial history as samplers use it: trials that fit this space, their values turned into losses (smaller is
 * better for every objective) and their total guardrail violation. Failed trials and trials whose values are
 * missing or not finite become `fail`, so nothing broken can ever look best.
 */
import type { Params } from '../model/space.ts';
import type { Dim } from './encoding.ts';
import { paramsInSpace } from './encoding.ts';
import type { Direction, TrialRecord, TrialState } from './types.ts';

/** One usable trial. */
export interface Observed {
  /** Position in the history given to the sampler (older trials have smaller positions). */
  position: number;
  params: Params;
  state: TrialState;
  /** Values as losses (maximized objectives negated), or null when the trial has none. */
  loss: number[] | null;
  /** Sum of the guardrail violations; 0 means feasible. */
  violation: number;
  /** TPE's internal values of params over all the space's dims, encoded once (observations are per space's dims, so per sampler); set undefined from the start so that every observation has one shape. */
  encoded?: Float64Array | undefined;
}

/** Sum of the positive violations; anything not a finite number counts as an infinite violation. */
export function violationOf(constraints: TrialRecord['constraints']): number {
  if (!constraints) return 0;
  let sum = 0;
  for (const c of constraints) sum += Number.isFinite(c) ? Math.max(0, c) : Infinity;
  return sum;
}

/** Values as losses, or null when they are absent, of the wrong length or not finite. */
export function lossOf(values: TrialRecord['values'], directions: readonly Direction[]): number[] | null {
  if (!values || values.length !== directions.length) return null;
  const loss = values.map((v, i) => (directions[i] === 'maximize' ? -v : v));
  return loss.every(Number.isFinite) ? loss : null;
}

/** What a trial record turned into, remembered while its params, state, values and constraints are the same objects. */
interface Seen {
  from: [TrialRecord['params'], TrialState, TrialRecord['values'], TrialRecord['constraints']];
  observed: Observed | null;
}

/** Per dims (one per sampler), per trial record: saves re-checking params on every sample; never changes a result. */
const seenCache = new WeakMap<readonly Dim[], WeakMap<TrialRecord, Seen>>();

function observeOne(t: TrialRecord, position: number, dims: readonly Dim[], directions: readonly Direction[]): Observed | null {
  const params = paramsInSpace(dims, t.params);
  if (params === null) return null;
  const loss = t.state === 'complete' || t.state === 'pruned' ? lossOf(t.values, directions) : null;
  const state: TrialState = t.state === 'complete' && loss === null ? 'fail' : t.state;
  return { position, params, state, loss, violation: violationOf(t.constraints), encoded: undefined };
}

/** The last history seen per dims: a position whose record is the same object and unchanged is taken as is, without a map lookup. */
const lastSeen = new WeakMap<readonly Dim[], { records: TrialRecord[]; seen: Seen[] }>();

/** The trials of the history that fit this space, with losses and violations; a `complete` trial without valid values becomes `fail`. */
export function observe(trials: readonly TrialRecord[], dims: readonly Dim[], directions: readonly Direction[]): Observed[] {
  let cache = seenCache.get(dims);
  if (!cache) seenCache.set(dims, (cache = new WeakMap()));
  let last = lastSeen.get(dims);
  if (!last) lastSeen.set(dims, (last = { records: [], seen: [] }));
  const out: Observed[] = [];
  for (let position = 0; position < trials.length; position++) {
    const t = trials[position]!;
    let seen = last.records[position] === t ? last.seen[position] : cache.get(t);
    if (!seen || seen.from[0] !== t.params || seen.from[1] !== t.state || seen.from[2] !== t.values || seen.from[3] !== t.constraints) {
      seen = { from: [t.params, t.state, t.values, t.constraints], observed: observeOne(t, position, dims, directions) };
      cache.set(t, seen);
    }
    if (seen.observed && seen.observed.position !== position) seen.observed = { ...seen.observed, position };
    last.records[position] = t;
    last.seen[position] = seen;
    if (seen.observed) out.push(seen.observed);
  }
  last.records.length = trials.length;
  last.seen.length = trials.length;
  return out;
}
