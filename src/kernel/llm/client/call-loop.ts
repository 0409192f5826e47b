/** The resilient path of one call: each candidate model in order (the requested one, then its fallbacks), retries with backoff per model. */
import type { Logger } from '../../log.ts';
import { LlmCancelled, LlmCircuitOpen, LlmError, LlmRateLimited, type LlmErrorClass } from '../model/errors.ts';
import type { ModelRef } from '../model/model-ref.ts';
import { backoffMs, sleepUnlessAborted } from '../resilience/backoff.ts';
import type { CircuitBreaker } from '../resilience/circuit-breaker.ts';
import type { Completion } from '../wire/completion.ts';
import type { LlmMetrics } from './metrics.ts';
import type { ProviderRuntime } from './provider.ts';

/** Failures that say a provider+model is unwell: they count towards opening its circuit. */
const UNHEALTHY: ReadonlySet<LlmErrorClass> = new Set(['timeout', 'connection', 'server_error', 'malformed_response']);

/**
 * Tells the breaker what a failed attempt says about the provider's health. A provider that answered (even a 400) is
 * healthy. A 429 asks us to slow down, which the retries honour, so it counts only once they are spent; outages
 * (5xx, timeouts, refused connections, garbled answers) count every time.
 */
function reportToBreaker(breaker: CircuitBreaker, err: LlmError, givesUp: boolean): void {
  if (err.errorClass === 'rate_limited') {
    if (givesUp) breaker.failure();
    else breaker.release();
  } else if (UNHEALTHY.has(err.errorClass)) breaker.failure();
  else breaker.success();
}

/** Where a call stands; read by the caller for metrics and for the result. */
export interface CallProgress {
  /** The model tried last (the one that answered, on success). */
  target: ModelRef;
  attempts: number;
  /** Set by a stream once a piece reached the caller: from then on a failure is final (no retry, no fallback). */
  committed: boolean;
}

/** What the loop needs from the client. */
export interface LoopDeps {
  provider(name: string): ProviderRuntime;
  metrics: LlmMetrics;
  log: Logger;
}

/** Tries `candidates` in order; `send` makes one HTTP attempt. Returns the first completion, or throws the last typed error. */
export async function runCallLoop(deps: LoopDeps, candidates: ModelRef[], signal: AbortSignal | undefined, progress: CallProgress, send: (p: ProviderRuntime, target: ModelRef) => Promise<Completion>): Promise<Completion> {
  let last: LlmError | undefined;
  for (const [i, target] of candidates.entries()) {
    if (i > 0) {
      deps.metrics.fallback(candidates[i - 1]!, target);
      deps.log.warn({ from: candidates[i - 1]!.id, to: target.id, err: last?.message }, 'LLM call falls back to the next model');
    }
    progress.target = target;
    const p = deps.provider(target.provider);
    const breaker = p.breaker(target);
    for (let retry = 0; ; retry++) {
      const admission = breaker.admit();
      if (!admission.ok) {
        // When our own failures just opened it, the failure itself tells the caller more than "circuit open".
        if (retry === 0) last = new LlmCircuitOpen(target.id, admission.retryInMs);
        deps.metrics.error(target, 'circuit_open');
        break;
      }
      let release: () => void;
      try {
        release = await p.semaphore.acquire(signal);
      } catch {
        breaker.release();
        throw new LlmCancelled(target.id);
      }
      progress.attempts++;
      let err: LlmError;
      try {
        const completion = await send(p, target);
        breaker.success();
        return completion;
      } catch (e) {
        if (!(e instanceof LlmError)) {
          breaker.release();
          throw e;
        }
        err = e;
      } finally {
        release();
      }
      deps.metrics.error(target, err.errorClass);
      if (err instanceof LlmCancelled) {
        breaker.release();
        throw err;
      }
      const asked = err instanceof LlmRateLimited ? err.retryAfterMs : undefined;
      // A provider asking for a long pause is better served by the next model than by waiting.
      const givesUp = progress.committed || !err.retryable || retry >= p.cfg.maxRetries || (asked !== undefined && asked > p.cfg.maxRetryAfterMs);
      reportToBreaker(breaker, err, givesUp);
      if (progress.committed) throw err;
      last = err;
      if (givesUp) break;
      const delay = asked ?? backoffMs(retry, p.cfg.retryBaseMs, p.cfg.retryMaxMs);
      deps.log.debug({ model: target.id, err: err.message, retry: retry + 1, delayMs: delay }, 'LLM call retries');
      try {
        await sleepUnlessAborted(delay, signal);
      } catch {
        throw new LlmCancelled(target.id);
      }
    }
    if (!last!.fallback) throw last!;
  }
  throw last!;
}
