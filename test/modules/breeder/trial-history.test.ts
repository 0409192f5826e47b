/**
 * The loop's incremental history on real PostgreSQL: after any mix of claims, parameters, ends, abandoned trials
 * and a second worker's claims, a refresh equals a full read of the trials, reads only from the oldest trial that
 * was still running, and hands back the same record objects for trials that had already ended.
 */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../../src/modules/breeder/model/definition.ts';
import { toRecord } from '../../../src/modules/breeder/runtime/loop-records.ts';
import { TrialHistory } from '../../../src/modules/breeder/runtime/trial-history.ts';
import { breederStoreForFile } from '../../helpers/breeder-store.ts';

const fx = breederStoreForFile('breedhist');

describe('incremental trial history', () => {
  it('matches a full read after every change and re-reads only from the oldest running trial', async () => {
    const def = parseDefinition({
      name: 'hist',
      space: { x: { type: 'float', low: 0, high: 1 } },
      objectives: [{ name: 'v', direction: 'minimize', source: { http: { url: 'http://127.0.0.1:9/v', path: '$.v' } } }],
      effectuation: { http: { url: 'http://127.0.0.1:9/apply' } },
      run: { max_trials: 50 },
    });
    const b = await fx.store.start((await fx.store.create(def)).id);
    const ref = { id: b.id, name: b.name };
    const reads: number[] = [];
    const history = new TrialHistory((from) => {
      reads.push(from);
      return fx.store.trials.since(b.id, from);
    });
    const check = async () => {
      const got = await history.refresh();
      const all = await fx.store.trials.all(b.id);
      expect(got.rows).toEqual(all);
      expect(got.records).toEqual(all.map(toRecord));
      return got;
    };
    const end = (n: number, state: 'complete' | 'fail') => fx.store.trials.finish(ref, n, { x: n / 50 }, { state, values: state === 'complete' ? [n] : null, observations: null, constraints: null, error: state === 'fail' ? 'boom' : null, durations: {} });
    const claim = (slot: number) => fx.store.trials.claim(b.id, b.generation, 50, slot, `w${slot}`);

    expect((await check()).rows).toEqual([]);
    // Worker 0 runs trials 0-2; worker 1 claims 3 and keeps it running.
    for (let i = 0; i < 3; i++) {
      const n = (await claim(0))!;
      await fx.store.trials.setParams(b.id, n, { x: n / 50 });
      await check();
      await end(n, i === 1 ? 'fail' : 'complete');
    }
    const first = await check();
    const kept = first.records.slice(0, 3);
    const held = (await claim(1))!;
    await claim(0);
    await end(4, 'complete');
    const second = await check();
    // Trials 0-2 had ended: the same record objects, not re-read.
    for (let i = 0; i < 3; i++) expect(second.records[i]).toBe(kept[i]);
    expect(reads.at(-1)).toBe(3);
    // Trial 3 stays running: the next read starts there; once it is abandoned, past it.
    await claim(0);
    await check();
    expect(reads.at(-1)).toBe(held);
    await fx.store.trials.abandon(ref, 1, 'abandoned: test');
    await end(5, 'complete');
    await check();
    await check();
    expect(reads.at(-1)).toBe(6);
  });

  it('a claim that brings the history read with it (one round trip) gives what a claim and then a refresh gives', async () => {
    const def = parseDefinition({
      name: 'hist-claim',
      space: { x: { type: 'float', low: 0, high: 1 } },
      objectives: [{ name: 'v', direction: 'minimize', source: { http: { url: 'http://127.0.0.1:9/v', path: '$.v' } } }],
      effectuation: { http: { url: 'http://127.0.0.1:9/apply' } },
      run: { max_trials: 4 },
    });
    const b = await fx.store.start((await fx.store.create(def)).id);
    const ref = { id: b.id, name: b.name };
    const history = new TrialHistory((from) => fx.store.trials.since(b.id, from));
    // Another slot holds trial 0 running; this slot claims 1..3, ending each.
    expect(await fx.store.trials.claim(b.id, b.generation, 4, 1, 'w1')).toBe(0);
    for (const expected of [1, 2, 3]) {
      const { number, rows } = await fx.store.trials.claimAndRead(b.id, b.generation, 4, 0, 'w0', history.from());
      expect(number).toBe(expected);
      const got = history.apply(rows);
      const all = await fx.store.trials.all(b.id);
      expect(got.rows).toEqual(all);
      expect(got.rows.find((t) => t.number === expected)!.state).toBe('running');
      await fx.store.trials.finish(ref, expected, { x: 0.5 }, { state: 'complete', values: [expected], observations: null, constraints: null, error: null, durations: {} });
    }
    // Trial 0 is still running, so every read started there.
    expect(history.from()).toBe(0);
    // max_trials reached: refused, and nothing read.
    expect(await fx.store.trials.claimAndRead(b.id, b.generation, 4, 0, 'w0', history.from())).toEqual({ number: null, rows: [] });
  });
});
