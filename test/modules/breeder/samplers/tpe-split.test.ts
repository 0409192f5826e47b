/**
 * TPE's split picks its good group without sorting the whole history (a buffer of the best few): it must pick
 * exactly what a full sort by (loss, age) picks, with ties and every kind of trial mixed in, and keep both groups
 * oldest first.
 */
import { describe, expect, it } from 'vitest';
import type { Observed } from '../../../../src/modules/breeder/samplers/history.ts';
import { createSplitter, splitTrials } from '../../../../src/modules/breeder/samplers/tpe-split.ts';
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

  it('a splitter that remembers its last split gives the same groups as splitTrials while the history grows, changes and shrinks', () => {
    const positions = (t: Observed[]) => t.map((x) => x.position);
    let remembered = 0;
    for (let seed = 0; seed < 6; seed++) {
      const rng = new Rng(seed, 1, 0);
      const make = (position: number): Observed => {
        const u = rng.uniform();
        const state = u < 0.05 ? 'fail' : u < 0.1 ? 'running' : u < 0.15 ? 'pruned' : 'complete';
        const loss = state === 'fail' || state === 'running' ? null : [Math.floor(rng.uniform() * 30)];
        return { position, params: {}, state, loss, violation: rng.uniform() < 0.05 ? 1 : 0 };
      };
      const split = createSplitter();
      let trials: Observed[] = Array.from({ length: 40 }, (_, i) => make(i));
      for (let step = 0; step < 150; step++) {
        const u = rng.uniform();
        if (u < 0.7) trials = [...trials, ...Array.from({ length: 1 + rng.int(3) }, (_, i) => make(trials.length + i))];
        else if (u < 0.8) trials = trials.map((t, i) => (i === rng.int(trials.length) ? { ...t, state: 'complete', loss: [rng.int(30)] } : t)); // a trial finished
        else if (u < 0.85) trials = trials.slice(0, -1);
        // The group's size moves now and then (gamma x finished), and the options with it.
        const nBelow = step % 40 < 30 ? 10 : 1 + rng.int(20);
        const opts = { constantLiar: step % 50 < 45, failedAsBad: true };
        const got = split(trials, nBelow, opts);
        const want = splitTrials(trials, nBelow, opts);
        expect({ below: positions(got.below), above: positions(got.above) }).toEqual({ below: positions(want.below), above: positions(want.above) });
      }
      remembered += split.remembered;
    }
    expect(remembered).toBeGreaterThan(300); // most splits took the remembered path, so the comparison tested it
  });
});
