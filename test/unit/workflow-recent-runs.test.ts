/** RecentRuns: hits only at the exact version, and stays within its entry and size bounds. */
import { describe, expect, it } from 'vitest';
import { RecentRuns } from '../../src/modules/workflow/runtime/recent-runs.ts';
import type { RunRecord } from '../../src/modules/workflow/model/run.ts';

function run(runId: string, version: number, object: unknown = { n: 1 }): RunRecord {
  const now = new Date();
  return { runId, workflow: 'w', foreignId: 'f', runState: 'running', status: 's', object, version, statusDescription: null, reason: null, createdAt: now, updatedAt: now };
}

describe('RecentRuns', () => {
  it('answers only for the version it holds; a newer write replaces the older', () => {
    const c = new RecentRuns();
    c.put(run('a', 2));
    expect(c.get('a', 2)?.version).toBe(2);
    expect(c.get('a', 1)).toBeUndefined();
    expect(c.get('a', 3)).toBeUndefined();
    c.put(run('a', 3));
    expect(c.get('a', 2)).toBeUndefined();
    expect(c.get('a', 3)?.version).toBe(3);
    expect(c.size).toBe(1);
    c.forget('a');
    expect(c.get('a', 3)).toBeUndefined();
  });

  it('answers after a mark only for runs put after it: an older entry may have been moved on by another instance', () => {
    const c = new RecentRuns();
    c.put(run('before', 1));
    const mark = c.mark();
    c.put(run('after', 4));
    expect(c.get('before', 1, mark)).toBeUndefined();
    expect(c.get('before', 1)?.version).toBe(1);
    expect(c.get('after', 4, mark)?.version).toBe(4);
    // Written again after the mark: current again.
    c.put(run('before', 2));
    expect(c.get('before', 2, mark)?.version).toBe(2);
  });

  it('drops the oldest entries beyond the entry limit', () => {
    const c = new RecentRuns({ entries: 3 });
    for (const id of ['a', 'b', 'c', 'd']) c.put(run(id, 1));
    expect(c.size).toBe(3);
    expect(c.get('a', 1)).toBeUndefined();
    expect(c.get('d', 1)).toBeDefined();
  });

  it('keeps no object larger than its limit (and forgets the older version of that run), and bounds the total size', () => {
    const c = new RecentRuns({ objectChars: 100, totalChars: 250 });
    c.put(run('big', 1, { s: 'x' }));
    c.put(run('big', 2, { s: 'x'.repeat(200) }));
    expect(c.get('big', 1)).toBeUndefined();
    expect(c.get('big', 2)).toBeUndefined();
    for (const id of ['a', 'b', 'c']) c.put(run(id, 1, { s: 'y'.repeat(80) }));
    // Three objects of about 88 characters exceed 250 in all: the oldest goes.
    expect(c.size).toBe(2);
    expect(c.get('a', 1)).toBeUndefined();
    expect(c.get('c', 1)).toBeDefined();
  });
});
