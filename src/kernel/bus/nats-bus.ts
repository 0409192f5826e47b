/** The distributed EventBus: core NATS for ephemeral subscriptions, JetStream for storage and durable consumers. */
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import { CapstanError, Invalid, Unavailable } from '../errors.ts';
import { buildEnvelope, parseEnvelope } from './envelope.ts';
import type { BusHooks } from './hooks.ts';
import { resolveDurable } from './durable-options.ts';
import { NatsDurableSubscriber } from './nats-durable.ts';
import { ensureConsumer, ensureStream, streamNameFor } from './nats-stream.ts';
import type { DurableOptions, EventBus, EventEnvelope, EventHandler, PublishOptions, SubscribeOptions, Subscription } from './port.ts';
import { validatePattern, validateQueueGroup, validateType } from './subject-pattern.ts';

/** Options of `NatsBus.connect`. */
export interface NatsBusOptions extends BusHooks {
  /** Server URL(s); used only when no `connection` is given. */
  url?: string;
  /** An existing connection to share (the caller keeps ownership and closes it). */
  connection?: NatsConnection;
  /** Every subject is `${prefix}.${type}`; also names the stream. */
  prefix: string;
  /** Default CAPSTAN_<PREFIX>. */
  streamName?: string;
  /** Stream max age. Default 7 days. */
  maxAgeMs?: number;
  /** Window in which a republished envelope id is stored only once. Default 2 minutes. */
  duplicateWindowMs?: number;
  /** Deadline for a publish acknowledgement and for ping. Default 5 s. */
  timeoutMs?: number;
}

/** EventBus on NATS; `connect` makes sure the stream exists. */
export class NatsBus implements EventBus {
  private readonly subs = new Set<{ stop(): Promise<void> }>();
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly owned: boolean,
    private readonly stream: string,
    private readonly opts: NatsBusOptions,
  ) {}

  /** Connects (or adopts `connection`), creates or updates the stream, and returns the bus. */
  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    validateType(opts.prefix, 'prefix');
    let nc = opts.connection;
    if (!nc) {
      try {
        // Reconnect forever: a NATS restart must not take the process down with it.
        nc = await connect({ servers: opts.url ?? '127.0.0.1:4222', name: opts.source, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
      } catch (err) {
        throw new Unavailable(`NATS is unreachable: ${(err as Error).message}`);
      }
    }
    const stream = opts.streamName ?? streamNameFor(opts.prefix);
    try {
      const jsm = await jetstreamManager(nc, { timeout: opts.timeoutMs ?? 5_000 });
      await ensureStream(jsm, stream, opts.prefix, { maxAgeMs: opts.maxAgeMs ?? 7 * 24 * 3600_000, duplicateWindowMs: opts.duplicateWindowMs ?? 120_000 });
      return new NatsBus(nc, jsm, jetstream(nc, { timeout: opts.timeoutMs ?? 5_000 }), !opts.connection, stream, opts);
    } catch (err) {
      if (!opts.connection) await nc.close().catch(() => {});
      throw err;
    }
  }

  /** The underlying connection (for readiness checks and the KV adapter). */
  get connection(): NatsConnection {
    return this.nc;
  }

  /** The JetStream stream that stores this bus's events. */
  get streamName(): string {
    return this.stream;
  }

  /** Stores the event in the stream (deduplicated by envelope id) and resolves once JetStream acknowledged it. */
  async publish<T>(type: string, data: T, opts?: PublishOptions): Promise<EventEnvelope<T>> {
    this.assertOpen();
    const { envelope, json, subject } = buildEnvelope(type, data, this.opts.source, opts);
    const max = this.nc.info?.max_payload;
    if (max !== undefined && Buffer.byteLength(json) > max) {
      throw new Invalid(`event is larger than the server's ${max} byte limit`, [{ path: 'data', message: `encoded event must be at most ${max} bytes` }]);
    }
    try {
      await this.js.publish(`${this.opts.prefix}.${subject}`, json, { msgID: envelope.id });
    } catch (err) {
      throw new Unavailable(`publishing '${type}' to NATS failed: ${(err as Error).message}`);
    }
    this.opts.metrics?.published(type);
    return envelope;
  }

  /** Core NATS subscription; resolves once the server knows about it. */
  async subscribe(pattern: string, handler: EventHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    validatePattern(pattern);
    if (opts.queueGroup !== undefined) validateQueueGroup(opts.queueGroup);
    const sub = this.nc.subscribe(`${this.opts.prefix}.${pattern}`, opts.queueGroup !== undefined ? { queue: opts.queueGroup } : {});
    void this.deliver(sub, handler);
    const entry = { stop: async () => sub.unsubscribe() };
    this.subs.add(entry);
    await this.flush();
    return {
      unsubscribe: async () => {
        this.subs.delete(entry);
        await entry.stop();
      },
    };
  }

  /** JetStream durable pull consumer named `opts.name`; unsubscribing leaves the consumer for the next subscriber. */
  async durable(opts: DurableOptions, handler: EventHandler): Promise<Subscription> {
    this.assertOpen();
    const d = resolveDurable(opts);
    try {
      await ensureConsumer(this.jsm, this.stream, `${this.opts.prefix}.${d.pattern}`, d);
    } catch (err) {
      throw err instanceof CapstanError ? err : new Unavailable(`creating durable '${d.name}' failed: ${(err as Error).message}`);
    }
    const subscriber = new NatsDurableSubscriber(this.nc, this.js, this.stream, d.name, this.opts.prefix, handler, this.opts, d.concurrency);
    subscriber.start();
    this.subs.add(subscriber);
    return {
      unsubscribe: async () => {
        this.subs.delete(subscriber);
        await subscriber.stop();
      },
    };
  }

  /** Throws Unavailable when the connection is closed, reconnecting, or does not answer within the timeout. */
  async ping(): Promise<void> {
    this.assertOpen();
    const timeoutMs = this.opts.timeoutMs ?? 5_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.nc.rtt(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } catch (err) {
      throw new Unavailable(`NATS is unreachable: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops every subscription; closes the connection only if this bus opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.stop().catch(() => {})));
    this.subs.clear();
    if (this.nc.isClosed()) return;
    if (this.owned) await this.nc.drain().catch(() => this.nc.close());
    else await this.flush();
  }

  /** Deletes the stream and its consumers (test cleanup); a missing stream is fine. */
  async deleteStream(): Promise<void> {
    try {
      await this.jsm.streams.delete(this.stream);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Unavailable('NATS bus is closed');
  }

  /** Waits until the server has seen everything sent so far, but never longer than the timeout (it may be down). */
  private async flush(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.timeoutMs ?? 5_000)));
    await Promise.race([this.nc.flush().catch(() => {}), timeout]).finally(() => clearTimeout(timer));
  }

  /** Hands messages to the handler one at a time (per-subscription order), dropping malformed ones. */
  private async deliver(sub: NatsSubscription, handler: EventHandler): Promise<void> {
    const skip = this.opts.prefix.length + 1;
    for await (const m of sub) {
      const parsed = parseEnvelope(m.string(), m.subject.slice(skip));
      if (!parsed.ok) {
        this.opts.metrics?.malformed?.(m.subject);
        this.opts.log?.warn({ subject: m.subject, reason: parsed.reason }, 'malformed event dropped');
        continue;
      }
      this.opts.metrics?.delivered(parsed.envelope.type);
      try {
        await handler(parsed.envelope);
      } catch (err) {
        this.opts.log?.warn({ err, type: parsed.envelope.type }, 'event handler failed');
      }
    }
  }
}
