/**
 * An EventBus decorator that makes a producer span per publication (its context travels in the envelope's
 * `traceparent`) and a consumer span per delivery, child of the publication, around the handler. Wraps any adapter,
 * so memory and NATS behave alike; only installed while tracing is on.
 */
import type { DurableOptions, EventBus, EventEnvelope, EventHandler, PublishOptions, SubscribeOptions, Subscription } from '../bus/port.ts';
import { currentTraceparent, withSpan } from './spans.ts';

/** Wraps `inner`; every call is passed on unchanged apart from the trace context. */
export class TracedBus implements EventBus {
  constructor(private readonly inner: EventBus) {}

  publish<T>(type: string, data: T, opts: PublishOptions = {}): Promise<EventEnvelope<T>> {
    return withSpan(`publish ${type}`, { kind: 'producer', attributes: { 'messaging.system': 'capstan', 'messaging.operation.type': 'send', 'messaging.destination.name': type, ...(opts.id ? { 'messaging.message.id': opts.id } : {}) } }, () =>
      this.inner.publish(type, data, { ...opts, traceparent: currentTraceparent() ?? opts.traceparent }),
    );
  }

  subscribe(pattern: string, handler: EventHandler, opts?: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(pattern, traced(pattern, handler), opts);
  }

  durable(opts: DurableOptions, handler: EventHandler): Promise<Subscription> {
    return this.inner.durable(opts, traced(opts.name, handler));
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The handler inside a consumer span whose parent is the publication's context. */
function traced(consumer: string, handler: EventHandler): EventHandler {
  return (event) =>
    withSpan(`deliver ${event.type}`, { kind: 'consumer', parent: event.traceparent ?? null, attributes: { 'messaging.system': 'capstan', 'messaging.operation.type': 'process', 'messaging.destination.name': event.type, 'messaging.message.id': event.id, 'messaging.consumer.group.name': consumer } }, async () => {
      await handler(event);
    });
}
