/** One subscriber on a JetStream durable pull consumer: up to `concurrency` messages at a time, ack after the handler, nak on throw. */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { sleep } from '../time.ts';
import { parseEnvelope } from './envelope.ts';
import { redeliveryDelayMs, type BusHooks } from './hooks.ts';
import type { EventHandler } from './port.ts';

const ABANDONED = Symbol('abandoned');

/** The message being handled and how far it got. */
interface InFlight {
  msg: JsMsg;
  state: 'running' | 'acking';
  acked?: Promise<unknown>;
  abandon: () => void;
}

/** Runs the consume loop until `stop`; a stopped subscriber leaves the durable consumer in place for others. */
export class NatsDurableSubscriber {
  private stopped = false;
  private wake: () => void = () => {};
  private readonly stopSignal = new Promise<void>((resolve) => (this.wake = resolve));
  private messages?: { stop(): void };
  private readonly inflight = new Set<InFlight>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly name: string,
    private readonly prefix: string,
    private readonly handler: EventHandler,
    private readonly hooks: BusHooks,
    private readonly concurrency = 1,
  ) {}

  /** Starts consuming in the background. */
  start(): void {
    void this.run();
  }

  /** Stops consuming; a handler still running is abandoned and its event handed back (nak) for redelivery. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    // A handler that has just resolved gets to finish its ack; only those still running are abandoned.
    await sleep(0);
    const acks: Promise<unknown>[] = [];
    for (const f of this.inflight) {
      if (f.state === 'running') {
        f.abandon();
        f.msg.nak();
      } else if (f.acked) {
        acks.push(f.acked);
      }
    }
    await Promise.all(acks);
    this.messages?.stop();
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => {});
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopped && !this.nc.isClosed(); attempt++) {
      try {
        const consumer = await this.js.consumers.get(this.stream, this.name);
        // Pull no more than we handle at once: little waits in a local buffer while its ack timer runs, and
        // several subscribers on one durable each hold at most `concurrency` events (plus one pull's buffer).
        const messages = await consumer.consume({ max_messages: this.concurrency });
        this.messages = messages;
        if (this.stopped) messages.stop();
        const running = new Set<Promise<void>>();
        for await (const m of messages) {
          if (this.stopped) {
            m.nak();
            break;
          }
          attempt = 0;
          if (this.concurrency === 1) {
            await this.handle(m);
            continue;
          }
          const p: Promise<void> = this.handle(m).finally(() => running.delete(p));
          running.add(p);
          while (running.size >= this.concurrency) await Promise.race(running);
        }
      } catch (err) {
        if (!this.stopped) this.hooks.log?.warn({ err, durable: this.name }, 'durable consume failed; retrying');
      }
      // The consume loop only ends on stop or on an error it did not recover from: back off and start again.
      await Promise.race([sleep(Math.min(5_000, 200 * 2 ** attempt)), this.stopSignal]);
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const subject = m.subject.slice(this.prefix.length + 1);
    const parsed = parseEnvelope(m.string(), subject);
    if (!parsed.ok) {
      // Redelivering a malformed message can never succeed: terminate it.
      this.hooks.metrics?.malformed?.(m.subject);
      this.hooks.log?.warn({ subject: m.subject, durable: this.name, reason: parsed.reason }, 'malformed event dropped');
      m.term();
      return;
    }
    let abandon: () => void = () => {};
    const abandoned = new Promise<typeof ABANDONED>((resolve) => (abandon = () => resolve(ABANDONED)));
    const f: InFlight = { msg: m, state: 'running', abandon };
    this.inflight.add(f);
    this.hooks.metrics?.delivered(parsed.envelope.type);
    let failure: unknown;
    try {
      const outcome = await Promise.race([Promise.resolve().then(() => this.handler(parsed.envelope)), abandoned]);
      if (outcome === ABANDONED) {
        this.inflight.delete(f);
        return;
      }
    } catch (err) {
      failure = err ?? new Error('handler failed');
    }
    if (failure === undefined) {
      f.state = 'acking';
      // Wait for the server to confirm, so that an acknowledged event is really done when stop() returns.
      f.acked = m.ackAck().catch((err: unknown) => this.hooks.log?.warn({ err, durable: this.name, subject }, 'ack failed; the event will be redelivered'));
      await f.acked;
    } else {
      this.hooks.log?.warn({ err: failure, durable: this.name, subject, deliveries: m.info.deliveryCount }, 'durable handler failed; will redeliver');
      m.nak(redeliveryDelayMs(m.info.deliveryCount));
    }
    this.inflight.delete(f);
  }
}
