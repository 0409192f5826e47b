/**
 * The bus as the agents module publishes on it. An agent's events announce state that is already committed in the
 * database (the row is the truth, and the kill of a running agent also reaches its worker through the heartbeat), so a
 * publish that still fails after a few retries must not fail the agent or answer 503 to a spawn whose row exists:
 * it is logged and counted (agents_events_dropped_total) instead. Malformed events (Invalid) still throw: that is a bug.
 */
import type { Counter } from 'prom-client';
import { CapstanError, isTransient, newId, retry, type EventBus, type EventEnvelope, type Logger, type PublishOptions } from '../../../kernel/index.ts';

/** Retries of one publish (the first try included), and the first backoff. */
const ATTEMPTS = 4;
const BASE_DELAY_MS = 250;
// A bus closed by shutdown does not come back; retrying it would only delay the shutdown.

/** Wraps `bus`: publish retries transient failures (same envelope id, so JetStream stores it once), then gives up quietly. */
export function announcingBus(bus: EventBus, log: Logger, dropped: Counter<'type'>): EventBus {
  return {
    subscribe: (pattern, handler, opts) => bus.subscribe(pattern, handler, opts),
    durable: (opts, handler) => bus.durable(opts, handler),
    ping: () => bus.ping(),
    close: () => bus.close(),
    async publish<T>(type: string, data: T, opts: PublishOptions = {}): Promise<EventEnvelope<T>> {
      const id = opts.id ?? newId();
      try {
        return await retry(() => bus.publish(type, data, { ...opts, id }), { attempts: ATTEMPTS, baseDelayMs: BASE_DELAY_MS, retryIf: (err) => isTransient(err) && !/is closed/.test((err as Error).message) });
      } catch (err) {
        if (err instanceof CapstanError && err.status < 500) throw err;
        dropped.inc({ type });
        log.warn({ err, type, eventId: id, correlationId: opts.correlationId }, 'agents event not published (the state it announces is saved)');
        return { id, type, time: new Date().toISOString(), source: opts.source ?? '', data, ...(opts.correlationId ? { correlationId: opts.correlationId } : {}) };
      }
    },
  };
}
