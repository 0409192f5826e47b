import { describe, expect, it } from 'vitest';
import { eventually, rejection } from './index.ts';

describe('eventually', () => {
  it('retries until the function returns a value, and resolves with it', async () => {
    let n = 0;
    expect(await eventually(() => (++n >= 3 ? n : undefined), { interval: 1 })).toBe(3);
  });

  it('treats a throw (a failing expect) as not yet, and reports the last one when time is up', async () => {
    let n = 0;
    await eventually(() => expect(++n).toBeGreaterThan(2) ?? true, { interval: 1 });
    const err = await rejection(eventually(() => expect(1).toBe(2), { timeout: 20, interval: 1, what: 'one is two' }));
    expect((err as Error).message).toMatch(/never happened within 20 ms \(one is two\):.*expected 1 to be 2/s);
  });

  it('names what it waited for when the function only ever returned false', async () => {
    const err = await rejection(eventually(() => false, { timeout: 10, interval: 1, what: 'the run to finish' }));
    expect((err as Error).message).toBe('never happened within 10 ms: the run to finish');
  });
});
