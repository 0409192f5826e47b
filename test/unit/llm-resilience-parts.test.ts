/** Unit tests of the LLM port's resilience parts: Retry-After parsing, backoff bounds, the semaphore's line, the circuit breaker's states. */
import { describe, expect, it } from 'vitest';
import { backoffMs, sleepUnlessAborted } from '../../src/kernel/llm/resilience/backoff.ts';
import { CircuitBreaker, type CircuitState } from '../../src/kernel/llm/resilience/circuit-breaker.ts';
import { retryAfterMs } from '../../src/kernel/llm/resilience/retry-after.ts';
import { Semaphore } from '../../src/kernel/llm/resilience/semaphore.ts';
import { rejection } from '../helpers/async.ts';

describe('retryAfterMs', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it('reads seconds, fractional seconds, an HTTP date and retry-after-ms (which wins)', () => {
    expect(retryAfterMs(h({ 'retry-after': '7' }))).toBe(7_000);
    expect(retryAfterMs(h({ 'retry-after': '0.25' }))).toBe(250);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterMs(h({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }), now)).toBe(0);
    expect(retryAfterMs(h({ 'retry-after': '7', 'retry-after-ms': '1500' }))).toBe(1_500);
  });
  it('ignores what it cannot read', () => {
    expect(retryAfterMs(h({}))).toBeUndefined();
    expect(retryAfterMs(h({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(h({ 'retry-after': '-3' }))).toBeUndefined();
  });
});

describe('backoffMs (full jitter)', () => {
  it('stays within [0, min(max, base * 2^retry))', () => {
    expect(backoffMs(0, 100, 10_000, () => 0)).toBe(0);
    expect(backoffMs(3, 100, 10_000, () => 0.999999)).toBe(799);
    expect(backoffMs(20, 100, 10_000, () => 0.5)).toBe(5_000);
  });
  it('rejects a wait at once when its signal aborts', async () => {
    const ctrl = new AbortController();
    const wait = sleepUnlessAborted(60_000, ctrl.signal);
    ctrl.abort(new Error('stop'));
    expect(((await rejection(wait)) as Error).message).toBe('stop');
  });
});

describe('Semaphore', () => {
  it('admits up to the limit and hands slots to waiters first come, first served', async () => {
    const changes: string[] = [];
    const s = new Semaphore(2, () => changes.push(`${s.active}/${s.waiting}`));
    const a = await s.acquire();
    const b = await s.acquire();
    const order: string[] = [];
    const c = s.acquire().then((r) => (order.push('c'), r));
    const d = s.acquire().then((r) => (order.push('d'), r));
    expect([s.active, s.waiting]).toEqual([2, 2]);
    a();
    a(); // a second release of the same slot does nothing
    const rc = await c;
    expect([s.active, s.waiting]).toEqual([2, 1]);
    b();
    rc();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    expect([s.active, s.waiting]).toEqual([0, 0]);
    expect(changes.at(-1)).toBe('0/0');
  });
  it('lets an aborted waiter leave the line without taking a slot', async () => {
    const s = new Semaphore(1);
    const held = await s.acquire();
    const ctrl = new AbortController();
    const waiter = s.acquire(ctrl.signal);
    const next = s.acquire();
    ctrl.abort(new Error('gone'));
    expect(((await rejection(waiter)) as Error).message).toBe('gone');
    held();
    (await next)();
    expect([s.active, s.waiting]).toEqual([0, 0]);
  });
});

describe('CircuitBreaker', () => {
  function breaker(over: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}) {
    let now = 0;
    const states: CircuitState[] = [];
    const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1_000, halfOpenProbes: 1, now: () => now, onChange: (s) => states.push(s), ...over });
    return { b, states, step: (ms: number) => (now += ms) };
  }
  it('opens after failureThreshold failures in a row; a success in between starts the count again', () => {
    const { b, states } = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.admit()).toEqual({ ok: false, retryInMs: 1_000 });
    expect(states).toEqual(['open']);
  });
  it('goes half-open after openMs, lets halfOpenProbes through, closes on success and reopens on failure', () => {
    const { b, states, step } = breaker({ halfOpenProbes: 1 });
    for (let i = 0; i < 3; i++) b.failure();
    step(400);
    expect(b.admit()).toEqual({ ok: false, retryInMs: 600 });
    step(600);
    expect(b.state).toBe('half-open');
    expect(b.admit().ok).toBe(true);
    expect(b.admit().ok).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    step(1_000);
    expect(b.admit().ok).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });
  it('gives a probe slot back when the probe ends without a verdict', () => {
    const { b, step } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    step(1_000);
    expect(b.admit().ok).toBe(true);
    b.release();
    expect(b.admit().ok).toBe(true);
  });
});
