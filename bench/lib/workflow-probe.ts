/**
 * Timing probes for the workflow benchmark: wrappers around the Database and the EventBus handed to the
 * workflow module and the outbox relay, so the bench sees where a transition's time goes without touching src/.
 * Chain per transition: commit(k) → relay picks the row → JetStream ack → consumer handler starts → lookup,
 * step, transaction → commit(k+1).
 */
import type { EventBus, EventEnvelope, EventHandler } from '../../src/kernel/bus/port.ts';
import type { Database } from '../../src/kernel/db/port.ts';

const STATUS_CHANGED = 'workflow.run.status_changed';

/** The fields of a status_changed event the probe reads. */
interface Changed {
  runId: string;
  workflow: string;
  status: string;
  version: number;
}

const keyOf = (runId: string, version: number) => `${runId}:${version}`;

/** Samples (ms) and counters collected while `on` is true. */
export class TransitionProbe {
  on = false;
  /** Wall time of each transaction (pool wait included). */
  readonly txMs: number[] = [];
  /** Commit → the relay calls publish for that event. */
  readonly relayPickupMs: number[] = [];
  /** publish call → JetStream ack (the relay publishes a batch concurrently). */
  readonly publishMs: number[] = [];
  /** JetStream ack → the consumer of the event's status starts its handler (delivery + waiting behind other events). */
  readonly consumerWaitMs: number[] = [];
  /** Handler of the consumer that owns the status: lookup, step, transition. */
  readonly handlerMs: number[] = [];
  /** status_changed deliveries to step consumers, and those the consumer's status owned. */
  deliveries = 0;
  ownDeliveries = 0;
  /** Durable subscriptions opened so far (the step consumers), to know when the instance is ready. */
  durables = 0;
  /** Transactions in flight now and at most; time-weighted sum for the mean. */
  inFlight = 0;
  maxInFlight = 0;
  private inFlightArea = 0;
  private inFlightSince = performance.now();
  private windowStart = performance.now();
  private readonly committedAt = new Map<string, number>();
  private readonly publishedAt = new Map<string, number>();

  /** Clears every sample and starts a measurement window. */
  start(): void {
    for (const xs of [this.txMs, this.relayPickupMs, this.publishMs, this.consumerWaitMs, this.handlerMs]) xs.length = 0;
    this.deliveries = this.ownDeliveries = 0;
    this.maxInFlight = this.inFlight;
    this.inFlightArea = 0;
    this.inFlightSince = this.windowStart = performance.now();
    this.committedAt.clear();
    this.publishedAt.clear();
    this.on = true;
  }

  /** Stops the window; returns the time-weighted mean number of transactions in flight during it. */
  stop(): number {
    this.track(0);
    this.on = false;
    const span = performance.now() - this.windowStart;
    return span > 0 ? this.inFlightArea / span : 0;
  }

  private track(delta: number): void {
    const now = performance.now();
    this.inFlightArea += this.inFlight * (now - this.inFlightSince);
    this.inFlightSince = now;
    this.inFlight += delta;
    if (this.on) this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }

  /** The Database with timed transactions; a transaction that returns a run records its commit time. */
  database(db: Database): Database {
    return {
      kind: db.kind,
      db: db.db,
      readDb: db.readDb,
      transaction: async (fn, opts) => {
        const t0 = performance.now();
        this.track(1);
        try {
          const out = await db.transaction(fn, opts);
          const t1 = performance.now();
          if (this.on) {
            this.txMs.push(t1 - t0);
            const run = out as { runId?: unknown; version?: unknown } | null;
            if (run && typeof run.runId === 'string' && typeof run.version === 'number') this.committedAt.set(keyOf(run.runId, run.version), t1);
          }
          return out;
        } finally {
          this.track(-1);
        }
      },
      // The engine's single-statement transition (store-move.ts) comes through here: timed like a transaction,
      // and a returned run row records its commit time.
      query: async <T>(text: string, params?: unknown[]) => {
        const t0 = performance.now();
        this.track(1);
        try {
          const rows = await db.query<T>(text, params);
          const t1 = performance.now();
          const row = rows[0] as { run_id?: unknown; version?: unknown } | undefined;
          if (this.on && text.includes('UPDATE workflow_runs') && row && typeof row.run_id === 'string' && typeof row.version === 'number') {
            this.txMs.push(t1 - t0);
            this.committedAt.set(keyOf(row.run_id, row.version), t1);
          }
          return rows;
        } finally {
          this.track(-1);
        }
      },
      listen: (channel, onNotify) => db.listen(channel, onNotify),
      migrate: (modules) => db.migrate(modules),
      ping: () => db.ping(),
      close: () => db.close(),
    };
  }

  /** The bus with timed publishes (the relay) and timed durable handlers (the step consumers). */
  bus(bus: EventBus): EventBus {
    return {
      publish: async (type, data, opts) => {
        const t0 = performance.now();
        const out = await bus.publish(type, data, opts);
        if (this.on && type === STATUS_CHANGED) {
          const d = data as unknown as Changed;
          const key = keyOf(d.runId, d.version);
          const committed = this.committedAt.get(key);
          if (committed !== undefined) this.relayPickupMs.push(t0 - committed);
          const t1 = performance.now();
          this.publishMs.push(t1 - t0);
          this.publishedAt.set(key, t1);
        }
        return out;
      },
      subscribe: (pattern, handler, opts) => bus.subscribe(pattern, handler, opts),
      durable: async (opts, handler) => {
        const sub = await bus.durable(opts, this.timedHandler(opts.name, handler));
        this.durables++;
        return sub;
      },
      ping: () => bus.ping(),
      close: () => bus.close(),
    };
  }

  private timedHandler(durable: string, handler: EventHandler): EventHandler {
    return async (e: EventEnvelope) => {
      const t0 = performance.now();
      const d = e.data as Changed;
      const published = e.type === STATUS_CHANGED ? this.publishedAt.get(keyOf(d.runId, d.version)) : undefined;
      // Durable names are `<workflow>-<status>-consumer-<i>-of-<n>` (sanitised): the status's own consumer.
      const own = e.type === STATUS_CHANGED && durable.startsWith(`${d.workflow}-${d.status}-consumer-`);
      try {
        await handler(e);
      } finally {
        const t1 = performance.now();
        if (this.on && e.type === STATUS_CHANGED) {
          this.deliveries++;
          if (own) {
            this.ownDeliveries++;
            this.handlerMs.push(t1 - t0);
            if (published !== undefined) this.consumerWaitMs.push(t0 - published);
          }
        }
      }
    };
  }
}
