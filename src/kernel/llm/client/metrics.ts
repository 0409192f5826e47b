/** The LLM port's Prometheus series: calls, errors, tokens, cost, latency, circuit state and waiting callers. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { cachedByLabels } from '../../label-children.ts';
import type { LlmErrorClass } from '../model/errors.ts';
import type { ModelRef } from '../model/model-ref.ts';
import type { Usage } from '../model/usage.ts';
import type { CircuitState } from '../resilience/circuit-breaker.ts';

/** How a call ended: `ok`, or the class of the error it ended with. */
export type CallOutcome = 'ok' | LlmErrorClass | 'other';

/** Handles the client calls; one set per registry. */
export interface LlmMetrics {
  call(target: Pick<ModelRef, 'provider' | 'model'>, outcome: CallOutcome, seconds: number): void;
  error(target: ModelRef, cls: LlmErrorClass | 'other'): void;
  usage(target: ModelRef, usage: Usage, cost: number | undefined): void;
  fallback(from: ModelRef, to: ModelRef): void;
  circuit(target: ModelRef, state: CircuitState): void;
  concurrency(provider: string, active: number, waiting: number): void;
}

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

// A second client on the same registry (tests, a reloaded config) reuses the series instead of failing to register.
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Registers (or finds) the series on `registry`. */
export function createLlmMetrics(registry: Registry): LlmMetrics {
  const registers = [registry];
  const calls = once(registry, 'llm_calls_total', () => new Counter({ name: 'llm_calls_total', help: 'LLM calls by the provider and model that answered (or last failed) and outcome (ok or error class)', labelNames: ['provider', 'model', 'outcome'] as const, registers }));
  const duration = once(registry, 'llm_call_duration_seconds', () => new Histogram({ name: 'llm_call_duration_seconds', help: 'LLM call latency as the caller sees it, retries and fallbacks included', labelNames: ['provider', 'model', 'outcome'] as const, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers }));
  const errors = once(registry, 'llm_errors_total', () => new Counter({ name: 'llm_errors_total', help: 'Failed LLM attempts (each retry counts) by error class', labelNames: ['provider', 'model', 'class'] as const, registers }));
  const tokens = once(registry, 'llm_tokens_total', () => new Counter({ name: 'llm_tokens_total', help: 'Tokens used, by direction (input = prompt, output = completion)', labelNames: ['provider', 'model', 'direction'] as const, registers }));
  const cost = once(registry, 'llm_cost_total', () => new Counter({ name: 'llm_cost_total', help: 'Cost from the configured price table, in its currency (USD by convention); unpriced models add nothing', labelNames: ['provider', 'model'] as const, registers }));
  const fallbacks = once(registry, 'llm_fallbacks_total', () => new Counter({ name: 'llm_fallbacks_total', help: 'Calls moved from one model to the next fallback', labelNames: ['from', 'to'] as const, registers }));
  const circuit = once(registry, 'llm_circuit_state', () => new Gauge({ name: 'llm_circuit_state', help: 'Circuit breaker state per provider and model: 0 closed, 1 half-open, 2 open', labelNames: ['provider', 'model'] as const, registers }));
  const waiting = once(registry, 'llm_waiting_callers', () => new Gauge({ name: 'llm_waiting_callers', help: 'Callers queued for a slot under the provider concurrency limit', labelNames: ['provider'] as const, registers }));
  const inFlight = once(registry, 'llm_in_flight', () => new Gauge({ name: 'llm_in_flight', help: 'LLM calls holding a slot of the provider concurrency limit', labelNames: ['provider'] as const, registers }));
  const callOf = cachedByLabels((provider, model, outcome) => ({ count: calls.labels(provider!, model!, outcome!), time: duration.labels(provider!, model!, outcome!) }));
  const usageOf = cachedByLabels((provider, model) => ({ input: tokens.labels(provider!, model!, 'input'), output: tokens.labels(provider!, model!, 'output'), cost: cost.labels(provider!, model!) }));
  const slotsOf = cachedByLabels((provider) => ({ inFlight: inFlight.labels(provider!), waiting: waiting.labels(provider!) }));
  return {
    call: (t, outcome, seconds) => {
      const c = callOf(t.provider, t.model, outcome);
      c.count.inc();
      c.time.observe(seconds);
    },
    error: (t, cls) => errors.inc({ provider: t.provider, model: t.model, class: cls }),
    usage: (t, u, c) => {
      const s = usageOf(t.provider, t.model);
      if (u.inputTokens) s.input.inc(u.inputTokens);
      if (u.outputTokens) s.output.inc(u.outputTokens);
      if (c) s.cost.inc(c);
    },
    fallback: (from, to) => fallbacks.inc({ from: from.id, to: to.id }),
    circuit: (t, state) => circuit.set({ provider: t.provider, model: t.model }, CIRCUIT_VALUE[state]),
    concurrency: (provider, active, queued) => {
      const s = slotsOf(provider);
      s.inFlight.set(active);
      s.waiting.set(queued);
    },
  };
}
