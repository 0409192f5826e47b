/** Plain callback objects the adapters accept, so the kernel can plug in metrics and logging without the adapters importing them. */

/** Counters for the bus (the HTTP shell backs them with prom-client: bus_published_total, bus_delivered_total). */
export interface BusMetrics {
  /** One event was published (stored, for NATS) under `type`. */
  published(type: string): void;
  /** One event was handed to a handler (every delivery, redeliveries included). */
  delivered(type: string): void;
  /** A message from the network failed envelope validation and was dropped. */
  malformed?(subject: string): void;
}

/** The slice of a pino logger the adapters use. */
export interface BusLog {
  warn(obj: object, msg: string): void;
}

/** Options both adapters share. */
export interface BusHooks {
  /** Default `source` of published envelopes (instance id or module name). */
  source: string;
  metrics?: BusMetrics;
  log?: BusLog;
}

/** Delay before a durable event whose handler threw is offered again: 100 ms doubling, at most 5 s. */
export function redeliveryDelayMs(deliveries: number): number {
  return Math.min(5_000, 100 * 2 ** Math.max(0, deliveries - 1));
}
