/** The EventBus port: typed events in an envelope, NATS-style subject patterns, fan-out, queue groups, durables. */

/** Every event on the bus travels in this envelope. */
export interface EventEnvelope<T = unknown> {
  /** Unique id (UUID v7-like, time ordered); also the dedup key for durable streams. */
  id: string;
  /** Dotted type, `<module>.<noun>.<verb>`; doubles as the subject. */
  type: string;
  /** ISO-8601 time of publication. */
  time: string;
  /** Who published it (instance id or module name). */
  source: string;
  /** Ties together the events of one logical operation. */
  correlationId?: string;
  /** W3C trace context of the publication (set when tracing is on), so the consumer's span joins the publisher's trace. */
  traceparent?: string;
  data: T;
}

/** Options for one publication. */
export interface PublishOptions {
  id?: string;
  source?: string;
  correlationId?: string;
  /** W3C trace context to carry in the envelope (the traced bus sets it from the active span). */
  traceparent?: string;
  /**
   * Extra routing tokens appended to the type to form the subject (`<type>.<token>...`), so that consumers can
   * filter on the server (a JetStream durable's filter subject) instead of receiving every event of the type.
   * Build each token with `subjectToken`. The envelope's type stays the same; subscribe to `<type>.>` (or a
   * wider pattern) to receive such events.
   */
  route?: string[];
}

/** A handler; for durable subscriptions, resolving acks the event and throwing asks for redelivery. */
export type EventHandler = (event: EventEnvelope) => void | Promise<void>;

/** A live subscription. */
export interface Subscription {
  /** Stops delivery; unacknowledged durable events will be redelivered to the next subscriber. */
  unsubscribe(): Promise<void>;
}

/** Options for an ephemeral subscription. */
export interface SubscribeOptions {
  /** Members of one queue group share the events: each event goes to exactly one member. */
  queueGroup?: string;
}

/** Where a new durable consumer starts reading. */
export type StartPosition = 'all' | 'new' | { sequence: number } | { time: Date };

/** Options for a durable subscription on the bus's persistent stream. */
export interface DurableOptions {
  /** Durable name: subscribers using the same name share one cursor (and split its events). */
  name: string;
  /** Subject pattern to consume (`*` one token, `>` the rest). */
  pattern: string;
  /** Only used when the durable does not exist yet. Default 'new'. */
  start?: StartPosition;
  /** Redeliver an event not acked within this time. Default 30 s. */
  ackWaitMs?: number;
  /** Give up on an event after this many deliveries. Default unlimited. */
  maxDeliver?: number;
  /**
   * When the durable exists with another pattern: 'conflict' (default) refuses with Conflict; 'replace' deletes it
   * (its cursor and unacknowledged events) and creates it with the new pattern, for consumers that can catch up
   * from elsewhere, e.g. after an upgrade changed the subjects they read.
   */
  onPatternChange?: 'conflict' | 'replace';
  /**
   * Events this subscriber handles at once. Default 1, which keeps the durable's order for this subscriber; above 1,
   * events are started in order but may finish (and be acknowledged) out of order.
   */
  concurrency?: number;
}

/** The bus. Adapters: memory (one process) and NATS (JetStream for durables). */
export interface EventBus {
  /** Publishes an event; for NATS it is also stored in the durable stream before this resolves. */
  publish<T>(type: string, data: T, opts?: PublishOptions): Promise<EventEnvelope<T>>;
  /** Ephemeral subscription: only events published while subscribed. */
  subscribe(pattern: string, handler: EventHandler, opts?: SubscribeOptions): Promise<Subscription>;
  /** Durable subscription with explicit ack and redelivery. */
  durable(opts: DurableOptions, handler: EventHandler): Promise<Subscription>;
  /** Throws if the bus is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
