/** The history checker itself: it must find overlaps and stale accepted writes when they are there (a checker that cannot fail proves nothing). */
import { describe, expect, it } from 'vitest';
import { activeIntervals, overlappingIntervals, staleAccepted, type HistoryEntry } from '../../helpers/mesh-history.ts';

const h = (t: number, node: string, ev: 'start' | 'stop', token: number, pid: number, slot = 0): HistoryEntry => ({ t, node, ev, workload: 'db', slot, token, pid });

describe('mesh history checker', () => {
  it('builds intervals from starts and stops, closing unstopped ones at the observed end or now', () => {
    const iv = activeIntervals([h(10, 'n1', 'start', 5, 1), h(20, 'n1', 'stop', 5, 1), h(30, 'n2', 'start', 9, 2), h(40, 'n3', 'start', 12, 3)], new Map([[2, 35]]), 100);
    expect(iv.map((i) => [i.pid, i.from, i.to, i.observedEnd])).toEqual([[1, 10, 20, false], [2, 30, 35, true], [3, 40, 100, true]]);
    expect(overlappingIntervals(iv)).toEqual([]);
  });

  it('reports two replicas of one slot active at once, and not replicas of different slots', () => {
    const iv = activeIntervals([h(10, 'n1', 'start', 5, 1), h(25, 'n2', 'start', 9, 2), h(30, 'n1', 'stop', 5, 1), h(26, 'n3', 'start', 7, 3, 1)], new Map(), 50);
    const o = overlappingIntervals(iv);
    expect(o).toHaveLength(1);
    expect([o[0]!.a.pid, o[0]!.b.pid, o[0]!.ms]).toEqual([1, 2, 5]);
    // Touching ends (stop at 30, start at 30) are not an overlap.
    expect(overlappingIntervals(activeIntervals([h(10, 'n1', 'start', 5, 1), h(30, 'n1', 'stop', 5, 1), h(30, 'n2', 'start', 9, 2)], new Map(), 50))).toEqual([]);
  });

  it('finds a write accepted with a token lower than one accepted before', () => {
    const w = (t: number, token: number, accepted: boolean) => ({ t, token, node: 'n', accepted });
    expect(staleAccepted([w(1, 5, true), w(2, 9, true), w(3, 5, false), w(4, 9, true)])).toEqual([]);
    expect(staleAccepted([w(1, 5, true), w(2, 9, true), w(3, 5, true)])).toEqual([w(3, 5, true)]);
  });
});
