/** One configured provider at run time: its endpoint and headers, its concurrency limit, and a breaker per model. */
import type { Logger } from '../../log.ts';
import type { LlmProviderConfig } from '../config/schema.ts';
import type { ModelRef } from '../model/model-ref.ts';
import { CircuitBreaker } from '../resilience/circuit-breaker.ts';
import { Semaphore } from '../resilience/semaphore.ts';
import type { LlmMetrics } from './metrics.ts';

/** A provider's shared state; built once per client. */
export class ProviderRuntime {
  /** POST target: `<baseUrl>/chat/completions`. */
  readonly url: string;
  /** Headers sent on every call, the Authorization header included (never logged). */
  readonly headers: Record<string, string>;
  readonly semaphore: Semaphore;
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(
    readonly name: string,
    readonly cfg: LlmProviderConfig,
    private readonly metrics: LlmMetrics,
    private readonly log: Logger,
    private readonly now?: () => number,
  ) {
    this.url = `${cfg.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.headers = { ...cfg.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (cfg.apiKey) {
      if (cfg.apiKeyHeader) this.headers[cfg.apiKeyHeader.toLowerCase()] = cfg.apiKey.reveal();
      else this.headers.authorization = `Bearer ${cfg.apiKey.reveal()}`;
    }
    this.semaphore = new Semaphore(cfg.maxConcurrency, () => metrics.concurrency(name, this.semaphore.active, this.semaphore.waiting));
    metrics.concurrency(name, 0, 0);
  }

  /** Secrets to scrub from any text this provider sends back. */
  get secrets() {
    return [this.cfg.apiKey];
  }

  /** The breaker of one model of this provider, created closed on first use. */
  breaker(target: ModelRef): CircuitBreaker {
    let b = this.#breakers.get(target.model);
    if (!b) {
      b = new CircuitBreaker({
        ...this.cfg.circuit,
        now: this.now,
        onChange: (state) => {
          this.metrics.circuit(target, state);
          this.log.warn({ model: target.id, circuit: state }, `LLM circuit ${state} for ${target.id}`);
        },
      });
      this.#breakers.set(target.model, b);
      this.metrics.circuit(target, 'closed');
    }
    return b;
  }

  /** The state of a model's breaker without creating one. */
  circuitState(model: string): 'closed' | 'open' | 'half-open' {
    return this.#breakers.get(model)?.state ?? 'closed';
  }
}
