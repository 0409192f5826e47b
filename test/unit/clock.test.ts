import { describe, expect, it } from 'vitest';
import { FakeClock, realClock } from '../../src/kernel/clock/index.ts';

describe('FakeClock', () => {
  it('fires due timers in time order, with the clock reading each timer’s own time', async () => {
    const clock = new FakeClock({ start: 0 });
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 100);
    clock.setTimeout(() => seen.push(`c@${clock.now()}`), 300);
    await clock.advance(250);
    expect(seen).toEqual(['a@100', 'b@200']);
    expect(clock.now()).toBe(250);
    expect(clock.pending()).toBe(1);
    await clock.advance(50);
    expect(seen).toEqual(['a@100', 'b@200', 'c@300']);
  });

  it('lets the code a timer wakes run before the next timer, and fires timers it sets within the same advance', async () => {
    const clock = new FakeClock({ start: 0 });
    const seen: number[] = [];
    async function loop() {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1_000);
        await Promise.resolve();
        seen.push(clock.now());
      }
    }
    const done = loop();
    await clock.advance(3_600_000);
    await done;
    expect(seen).toEqual([1_000, 2_000, 3_000]);
    expect(clock.now()).toBe(3_600_000);
  });

  it('fires an interval once per period and stops when cancelled', async () => {
    const clock = new FakeClock({ start: 0 });
    let n = 0;
    const t = clock.setInterval(() => n++, 100);
    await clock.advance(1_000);
    expect(n).toBe(10);
    t.cancel();
    await clock.advance(1_000);
    expect(n).toBe(10);
    expect(clock.pending()).toBe(0);
  });

  it('keeps equal deadlines in the order they were set and never fires a cancelled timer', async () => {
    const clock = new FakeClock({ start: 0 });
    const seen: string[] = [];
    clock.setTimeout(() => seen.push('first'), 10);
    const t = clock.setTimeout(() => seen.push('cancelled'), 10);
    clock.setTimeout(() => seen.push('second'), 10);
    t.cancel();
    await clock.advance(10);
    expect(seen).toEqual(['first', 'second']);
  });

  it('sleep resolves early when its signal aborts, and at once when already aborted', async () => {
    const clock = new FakeClock({ start: 0 });
    const ac = new AbortController();
    let woke = false;
    const p = clock.sleep(60_000, ac.signal).then(() => (woke = true));
    await clock.advance(1_000);
    expect(woke).toBe(false);
    ac.abort();
    await p;
    expect(woke).toBe(true);
    expect(clock.pending()).toBe(0);
    await clock.sleep(60_000, ac.signal);
  });

  it('moves the monotonic reading by the same amount as the wall clock, and refuses to go back', async () => {
    const clock = new FakeClock({ start: new Date('2026-03-01T00:00:00Z') });
    const m0 = clock.monotonic();
    await clock.advance(90_000);
    expect(clock.date().toISOString()).toBe('2026-03-01T00:01:30.000Z');
    expect(clock.monotonic() - m0).toBe(90_000);
    await clock.advanceTo(0);
    expect(clock.date().toISOString()).toBe('2026-03-01T00:01:30.000Z');
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    expect(clock.nextAt()).toBeUndefined();
  });
});

describe('realClock', () => {
  it('reads the runtime clock and its timers fire and cancel', async () => {
    const before = Date.now();
    expect(Math.abs(realClock.now() - before)).toBeLessThan(1_000);
    let fired = false;
    const t = realClock.setTimeout(() => (fired = true), 1);
    t.cancel();
    await realClock.sleep(5);
    expect(fired).toBe(false);
    const ac = new AbortController();
    ac.abort();
    await realClock.sleep(60_000, ac.signal);
  });
});
