/** The in-process EventBus: fan-out, queue groups and durable consumers over a bounded in-memory log. */
import { Conflict, Unavailable } from '../errors.ts';
import { buildEnvelope } from './envelope.ts';
import type { BusHooks } from './hooks.ts';
import { resolveDurable } from './durable-options.ts';
import { MemoryDurable } from './memory-durable.ts';
import { MemoryLog } from './memory-log.ts';
import type { DurableOptions, EventBus, EventEnvelope, EventHandler, PublishOptions, SubscribeOptions, Subscription } from './port.ts';
import { compilePattern, validateQueueGroup, type SubjectMatcher } from './subject-pattern.ts';

/** Options of the memory bus. */
export interface MemoryBusOptions extends BusHooks {
  /** How many events the durable log keeps (oldest dropped first). Default 100,000. */
  logLimit?: number;
  /** Republishing an id within this window is not stored again. Default 2 minutes, as the NATS stream. */
  duplicateWindowMs?: number;
}

/** An ephemeral subscriber with its own ordered delivery queue. */
interface Ephemeral {
  matches: SubjectMatcher;
  handler: EventHandler;
  group?: string;
  queue: string[];
  draining: boolean;
  closed: boolean;
}

/** EventBus for one process (embedded mode and tests). */
export class MemoryBus implements EventBus {
  private readonly log: MemoryLog;
  private ephemerals: Ephemeral[] = [];
  private readonly groupTurns = new Map<string, number>();
  private readonly durables = new Map<string, MemoryDurable>();
  private closed = false;

  constructor(private readonly opts: MemoryBusOptions) {
    this.log = new MemoryLog(opts.logLimit ?? 100_000, opts.duplicateWindowMs ?? 120_000);
  }

  /** Stores the event in the log, then hands it to matching subscribers and durables asynchronously. */
  async publish<T>(type: string, data: T, opts?: PublishOptions): Promise<EventEnvelope<T>> {
    this.assertOpen();
    const { envelope, json, subject } = buildEnvelope(type, data, this.opts.source, opts);
    if (this.log.append(envelope.id, subject, json)) {
      for (const d of this.durables.values()) d.notify();
    }
    this.opts.metrics?.published(type);
    this.fanOut(subject, json);
    return envelope;
  }

  /** Ephemeral subscription; members of one queue group (by name) share events round-robin. */
  async subscribe(pattern: string, handler: EventHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    const sub: Ephemeral = { matches: compilePattern(pattern), handler, queue: [], draining: false, closed: false };
    if (opts.queueGroup !== undefined) {
      validateQueueGroup(opts.queueGroup);
      sub.group = opts.queueGroup;
    }
    this.ephemerals.push(sub);
    return {
      unsubscribe: async () => {
        sub.closed = true;
        sub.queue = [];
        this.ephemerals = this.ephemerals.filter((s) => s !== sub);
      },
    };
  }

  /** Durable subscription; subscribers with the same name share one cursor and split its events. */
  async durable(opts: DurableOptions, handler: EventHandler): Promise<Subscription> {
    this.assertOpen();
    const resolved = resolveDurable(opts);
    let d = this.durables.get(resolved.name);
    if (!d) {
      d = new MemoryDurable(resolved, this.log, this.opts);
      this.durables.set(resolved.name, d);
    } else if (d.pattern !== resolved.pattern && resolved.onPatternChange === 'replace') {
      // Its cursor and pending events go with it, as when a JetStream consumer is deleted.
      d.stop();
      d = new MemoryDurable(resolved, this.log, this.opts);
      this.durables.set(resolved.name, d);
    } else if (d.pattern !== resolved.pattern) {
      throw new Conflict(`durable '${resolved.name}' exists with pattern '${d.pattern}'`, { name: resolved.name, pattern: d.pattern });
    } else {
      d.reconfigure(resolved);
    }
    const leave = d.join(handler, resolved.concurrency);
    return { unsubscribe: leave };
  }

  /** Throws Unavailable after close. */
  async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Stops every subscription; later calls throw Unavailable. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.ephemerals) s.closed = true;
    this.ephemerals = [];
    for (const d of this.durables.values()) d.stop();
  }

  private assertOpen(): void {
    if (this.closed) throw new Unavailable('memory bus is closed');
  }

  private fanOut(subject: string, json: string): void {
    const groups = new Map<string, Ephemeral[]>();
    for (const s of this.ephemerals) {
      if (!s.matches(subject)) continue;
      if (s.group === undefined) this.enqueue(s, json);
      else groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
    }
    for (const [group, members] of groups) {
      const turn = this.groupTurns.get(group) ?? 0;
      this.groupTurns.set(group, turn + 1);
      this.enqueue(members[turn % members.length]!, json);
    }
  }

  private enqueue(s: Ephemeral, json: string): void {
    s.queue.push(json);
    if (s.draining) return;
    s.draining = true;
    // A microtask later: handlers never run inside publish.
    queueMicrotask(() => void this.drain(s));
  }

  /** Delivers one event at a time so each subscription sees events in publication order. */
  private async drain(s: Ephemeral): Promise<void> {
    while (!s.closed) {
      const json = s.queue.shift();
      if (json === undefined) break;
      const event = JSON.parse(json) as EventEnvelope;
      this.opts.metrics?.delivered(event.type);
      try {
        await s.handler(event);
      } catch (err) {
        this.opts.log?.warn({ err, type: event.type }, 'event handler failed');
      }
    }
    s.draining = false;
  }
}
