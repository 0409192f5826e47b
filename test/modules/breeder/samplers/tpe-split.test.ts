/**
 * TPE's split picks its good group without sorting the whole history (a buffer of the best few): it must pick
 * exactly what a full sort by (loss, age) picks, with ties and every kind of trial mixed in, and keep both groups
 * oldest first.
 */
import { describe, expect, it } from 'vitest';
import type { Observed } from '../../../../src/modules/breeder/samplers/history.ts';
import { splitTrials } from '../../../../src/modules/breeder/samplers/tpe-split.ts';
import { Rng } from '../../../../src/modules/breeder/samplers/rng.ts';

/** The split as a plain full sort defines it. */
function reference(trials: Observed[], nBelow: number, constantLiar: boolean, failedAsBad: boolean) {
  const usable = trials.filter((t) => t.state !== 'running' && t.state !== 'fail');
  const complete = usable.filter((t) => t.violation === 0 && t.state === 'complete').sort((x, y) => x.loss![0]! - y.loss![0]! || x.position - y.position);
  const pruned = usable.filter((t) => t.violation === 0 && t.state === 'pruned' && t.loss !== null).sort((x, y) => x.loss![0]! - y.loss![0]! || x.position - y.position);
  const infeasible = usable.filter((t) => t.violation > 0).sort((x, y) => x.violation - y.violation || x.position - y.position);
  const below = new Set([...complete, ...pruned, ...infeasible].slice(0, nBelow));
  const kept = trials.filter((t) => (t.state === 'running' ? constantLiar : t.state === 'fail' ? failedAsBad : true));
  return { below: trials.filter((t) => below.has(t)).map((t) => t.position), above: kept.filter((t) => !below.has(t)).map((t) => t.position) };
}

describe('TPE split', () => {
  it('picks the same good group as a full sort, ties broken by age, for small and large groups', () => {
    for (let seed = 0; seed < 10; seed++) {
      const rng = new Rng(seed, 0, 0);
      const n = 50 + Math.floor(rng.uniform() * 400);
      const trials: Observed[] = Array.from({ length: n }, (_, position) => {
        const u = rng.uniform();
        const state = u < 0.1 ? 'fail' : u < 0.15 ? 'running' : u < 0.25 ? 'pruned' : 'complete';
        // Few distinct losses, so many ties.
        const loss = state === 'fail' || state === 'running' || (state === 'pruned' && rng.uniform() < 0.3) ? null : [Math.floor(rng.uniform() * 20)];
        const violation = rng.uniform() < 0.1 ? Math.floor(rng.uniform() * 3) : 0;
        return { position, params: {}, state, loss, violation };
      });
      for (const nBelow of [0, 1, 5, 25, 64, 65, 200, n]) {
        for (const [liar, bad] of [[true, true], [false, false]] as const) {
          const got = splitTrials(trials, nBelow, { constantLiar: liar, failedAsBad: bad });
          expect({ below: got.below.map((t) => t.position), above: got.above.map((t) => t.position) }).toEqual(reference(trials, nBelow, liar, bad));
        }
      }
    }
  });

  it('returns both groups oldest first even when the history is not in age order', () => {
    const trials: Observed[] = [3, 0, 2, 1].map((position) => ({ position, params: {}, state: 'complete', loss: [position % 2], violation: 0 }));
    const got = splitTrials(trials, 2, { constantLiar: true, failedAsBad: true });
    expect(got.below.map((t) => t.position)).toEqual([0, 2]);
    expect(got.above.map((t) => t.position)).toEqual([1, 3]);
  });
});
