/** LLM port contract, resilience: Retry-After, 5xx, timeouts, connection errors, circuit breaker and fallbacks, concurrency limit, cancellation. */
import { describe, expect, it } from 'vitest';
import { LlmCancelled, LlmCircuitOpen, LlmRateLimited, LlmTimeout, LlmUnavailable } from '../../src/kernel/index.ts';
import { freePort } from '../helpers/child-services.ts';
import { rejection } from '../helpers/async.ts';
import { fakeLlmForFile, fakeProvider, metricValue, testClient } from './llm-fake.ts';
import { eventually } from './queue-helpers.ts';

const fake = fakeLlmForFile();

const ask = (content = 'hi') => [{ role: 'user' as const, content }];
const config = (over: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) => ({ defaultProvider: 'fake', providers: { fake: fakeProvider(fake, over) }, ...rest });

describe('LLM port: retries and Retry-After', () => {
  it('waits out a 429 storm as long as Retry-After (seconds) and retry-after-ms say, then succeeds', async () => {
    await fake.script({ replies: [{ error: { status: 429, retryAfter: 1 } }, { error: { status: 429, retryAfterMs: 150 } }, { error: { status: 429, retryAfterMs: 50 } }, { text: 'finally' }] });
    const { llm, registry } = testClient(config({ maxRetries: 3 }));
    const started = performance.now();
    const r = await llm.chat({ model: 'm', messages: ask() });
    const waited = performance.now() - started;
    expect(r.text).toBe('finally');
    expect(r.attempts).toBe(4);
    // The backoff alone (base 5 ms) would be done in a few ms: only honouring the headers takes this long.
    expect(waited).toBeGreaterThanOrEqual(1_190);
    expect((await fake.stats()).byStatus).toEqual({ '429': 3, '200': 1 });
    expect(await metricValue(registry, 'llm_errors_total', { provider: 'fake', model: 'm', class: 'rate_limited' })).toBe(3);
  });

  it('gives up after maxRetries with LlmRateLimited carrying the last Retry-After', async () => {
    await fake.script({ replies: [{ error: { status: 429, retryAfterMs: 10, message: 'slow down' }, times: 'always' }] });
    const { llm } = testClient(config({ maxRetries: 2 }));
    const err = (await rejection(llm.chat({ model: 'm', messages: ask() }))) as LlmRateLimited;
    expect(err).toBeInstanceOf(LlmRateLimited);
    expect(err.code).toBe('LlmRateLimited');
    expect(err.retryAfterMs).toBe(10);
    expect(err.message).toContain('slow down');
    expect((await fake.stats()).total).toBe(3);
  });

  it('does not wait for a Retry-After longer than maxRetryAfterMs but moves to the fallback at once', async () => {
    await fake.script({ replies: [{ match: { model: 'primary' }, error: { status: 429, retryAfter: 120 }, times: 'always' }] });
    const { llm } = testClient(config({ maxRetryAfterMs: 1_000 }, { fallbacks: { 'fake/primary': ['fake/backup'] } }));
    const r = await llm.chat({ model: 'primary', messages: ask('to the backup') });
    expect(r.model.id).toBe('fake/backup');
    expect(r.text).toBe('to the backup');
    expect((await fake.stats()).byModel).toEqual({ primary: 1, backup: 1 });
    const alone = testClient(config({ maxRetryAfterMs: 1_000 }));
    const err = (await rejection(alone.llm.chat({ model: 'primary', messages: ask() }))) as LlmRateLimited;
    expect(err.retryAfterMs).toBe(120_000);
  });

  it('retries a 500 and succeeds on the next attempt', async () => {
    await fake.script({ replies: [{ error: { status: 500 } }, { text: 'ok now' }] });
    const { llm } = testClient(config());
    const r = await llm.chat({ model: 'm', messages: ask() });
    expect([r.text, r.attempts]).toEqual(['ok now', 2]);
    expect((await fake.stats()).byStatus).toEqual({ '500': 1, '200': 1 });
  });

  it('fails a call that gets no answer within timeoutMs with an overall LlmTimeout', async () => {
    await fake.script({ replies: [{ stall: {}, times: 'always' }] });
    const { llm } = testClient(config({ timeoutMs: 300, maxRetries: 1 }));
    const err = (await rejection(llm.chat({ model: 'm', messages: ask() }))) as LlmTimeout;
    expect(err).toBeInstanceOf(LlmTimeout);
    expect(err.kind).toBe('overall');
    expect((await fake.stats()).total).toBe(2);
  });

  it('reports an unreachable provider as LlmUnavailable after retrying', async () => {
    const port = await freePort();
    const { llm } = testClient({ providers: { gone: { baseUrl: `http://127.0.0.1:${port}/v1`, retryBaseMs: 5, maxRetries: 1 } } });
    const err = (await rejection(llm.chat({ model: 'gone/m', messages: ask() }))) as LlmUnavailable;
    expect(err).toBeInstanceOf(LlmUnavailable);
    expect(err.code).toBe('LlmUnavailable');
  });
});

describe('LLM port: circuit breaker and fallbacks', () => {
  const storm = { replies: [{ match: { model: 'primary' }, error: { status: 503, message: 'overloaded' }, times: 'always' }] };

  it('falls back in order while the primary fails, then skips the primary once its circuit is open', async () => {
    await fake.script(storm);
    const { llm, registry } = testClient(config({ maxRetries: 0, circuit: { failureThreshold: 2, openMs: 60_000 } }, { fallbacks: { 'fake/primary': ['fake/backup', 'fake/last'] } }));
    for (let i = 0; i < 4; i++) {
      const r = await llm.chat({ model: 'primary', messages: ask(`call ${i}`) });
      expect(r.model.id).toBe('fake/backup');
      expect(r.requestedModel).toBe('primary');
    }
    // Two failures opened the circuit; calls 3 and 4 went straight to the backup.
    expect((await fake.stats()).byModel).toEqual({ primary: 2, backup: 4 });
    expect(llm.circuitState('fake/primary')).toBe('open');
    expect(llm.circuitState('backup')).toBe('closed');
    expect(await metricValue(registry, 'llm_circuit_state', { provider: 'fake', model: 'primary' })).toBe(2);
    expect(await metricValue(registry, 'llm_fallbacks_total', { from: 'fake/primary', to: 'fake/backup' })).toBe(4);
    expect(await metricValue(registry, 'llm_errors_total', { provider: 'fake', model: 'primary', class: 'circuit_open' })).toBe(2);
  });

  it('opens the circuit on a 429 storm once each call has spent its retries, and falls back', async () => {
    await fake.script({ replies: [{ match: { model: 'primary' }, error: { status: 429, retryAfterMs: 5 }, times: 'always' }] });
    const { llm } = testClient(config({ maxRetries: 1, circuit: { failureThreshold: 2, openMs: 60_000 } }, { fallbacks: { 'fake/primary': ['fake/backup'] } }));
    for (let i = 0; i < 3; i++) expect((await llm.chat({ model: 'primary', messages: ask() })).model.model).toBe('backup');
    // Two calls of two attempts each reached the primary; the third found its circuit open.
    expect((await fake.stats()).byModel).toEqual({ primary: 4, backup: 3 });
    expect(llm.circuitState('primary')).toBe('open');
  });

  it('probes the primary again after openMs (half-open) and closes on success', async () => {
    await fake.script(storm);
    let now = 0;
    const { llm } = testClient(config({ maxRetries: 0, circuit: { failureThreshold: 1, openMs: 30_000 } }, { fallbacks: { 'fake/primary': ['fake/backup'] } }), () => now);
    expect((await llm.chat({ model: 'primary', messages: ask() })).model.model).toBe('backup');
    expect(llm.circuitState('primary')).toBe('open');
    now += 30_000;
    expect(llm.circuitState('primary')).toBe('half-open');
    await fake.script({ replies: [] });
    const r = await llm.chat({ model: 'primary', messages: ask('recovered') });
    expect(r.model.model).toBe('primary');
    expect(llm.circuitState('primary')).toBe('closed');
  });

  it('answers LlmCircuitOpen without sending anything when every candidate is open', async () => {
    await fake.script({ replies: [{ error: { status: 500 }, times: 'always' }] });
    const { llm } = testClient(config({ maxRetries: 0, circuit: { failureThreshold: 1, openMs: 60_000 } }, { fallbacks: { 'fake/primary': ['fake/backup'] } }));
    await rejection(llm.chat({ model: 'primary', messages: ask() }));
    const before = (await fake.stats()).total;
    const err = (await rejection(llm.chat({ model: 'primary', messages: ask() }))) as LlmCircuitOpen;
    expect(err).toBeInstanceOf(LlmCircuitOpen);
    expect(err.code).toBe('LlmCircuitOpen');
    expect(err.retryInMs).toBeGreaterThan(0);
    expect((await fake.stats()).total).toBe(before);
  });

  it('a per-call fallbacks list overrides the configured one, and [] turns fallback off', async () => {
    await fake.script(storm);
    const { llm } = testClient(config({ maxRetries: 0 }, { fallbacks: { 'fake/primary': ['fake/backup'] } }));
    expect((await llm.chat({ model: 'primary', messages: ask(), fallbacks: ['fake/other'] })).model.model).toBe('other');
    expect(await rejection(llm.chat({ model: 'primary', messages: ask(), fallbacks: [] }))).toMatchObject({ code: 'LlmProviderError', providerStatus: 503 });
  });
});

describe('LLM port: concurrency limit and cancellation', () => {
  it('keeps at most maxConcurrency calls in flight at the provider and queues the rest (llm_waiting_callers)', async () => {
    await fake.script({ replies: [{ delayMs: 150, times: 'always' }] });
    const { llm, registry } = testClient(config({ maxConcurrency: 3 }));
    const calls = Array.from({ length: 20 }, (_, i) => llm.chat({ model: 'm', messages: ask(`c${i}`) }));
    const waiting = await eventually('callers queued', async () => ((await metricValue(registry, 'llm_waiting_callers', { provider: 'fake' })) > 0 ? true : undefined));
    expect(waiting).toBe(true);
    const results = await Promise.all(calls);
    expect(results.map((r) => r.text)).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    const stats = await fake.stats();
    expect(stats.total).toBe(20);
    expect(stats.maxInFlight).toBe(3);
    expect(await metricValue(registry, 'llm_waiting_callers', { provider: 'fake' })).toBe(0);
    expect(await metricValue(registry, 'llm_in_flight', { provider: 'fake' })).toBe(0);
  });

  it('cancels a call in flight by AbortSignal: LlmCancelled, the request closed at the server, not retried', async () => {
    await fake.script({ replies: [{ delayMs: 10_000, times: 'always' }] });
    const { llm, registry } = testClient(config());
    const ctrl = new AbortController();
    const call = llm.chat({ model: 'm', messages: ask(), signal: ctrl.signal });
    await eventually('the request to arrive', async () => (await fake.stats()).inFlight === 1);
    ctrl.abort();
    const err = await rejection(call);
    expect(err).toBeInstanceOf(LlmCancelled);
    await eventually('the server to see it closed', async () => (await fake.stats()).inFlight === 0);
    expect((await fake.stats()).total).toBe(1);
    expect(await metricValue(registry, 'llm_calls_total', { provider: 'fake', model: 'm', outcome: 'cancelled' })).toBe(1);
  });

  it('cancels a call still waiting for a slot without ever sending it', async () => {
    await fake.script({ replies: [{ delayMs: 300, times: 'always' }] });
    const { llm } = testClient(config({ maxConcurrency: 1 }));
    const first = llm.chat({ model: 'm', messages: ask('first') });
    const ctrl = new AbortController();
    const queued = llm.chat({ model: 'm', messages: ask('queued'), signal: ctrl.signal });
    ctrl.abort();
    expect(await rejection(queued)).toBeInstanceOf(LlmCancelled);
    expect((await first).text).toBe('first');
    expect((await fake.stats()).requests.map((r) => r.messages)).toEqual([ask('first')]);
  });

  it('cancels during a Retry-After wait', async () => {
    await fake.script({ replies: [{ error: { status: 429, retryAfter: 30 }, times: 'always' }] });
    const { llm } = testClient(config());
    const ctrl = new AbortController();
    const call = llm.chat({ model: 'm', messages: ask(), signal: ctrl.signal });
    await eventually('the 429 to be answered', async () => (await fake.stats()).byStatus['429'] === 1);
    ctrl.abort();
    expect(await rejection(call)).toBeInstanceOf(LlmCancelled);
    expect((await fake.stats()).total).toBe(1);
  });

  it('scripts concurrent sessions independently by a session header', async () => {
    await fake.script({ sessionHeader: 'x-session', replies: [{ error: { status: 429, retryAfterMs: 20 } }, { text: 'after the 429' }] });
    const { llm } = testClient(config());
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => llm.chat({ model: 'm', messages: ask(), headers: { 'x-session': `s${i}` } })));
    // Each session saw its own 429 first, then its own answer.
    expect(results.every((r) => r.text === 'after the 429' && r.attempts === 2)).toBe(true);
    expect((await fake.stats()).byStatus).toEqual({ '429': 10, '200': 10 });
  });
});
