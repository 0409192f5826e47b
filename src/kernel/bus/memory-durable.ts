/** One durable consumer of the memory bus: a cursor over the log, pending (unacked) events, members that share it. */
import type { BusHooks } from './hooks.ts';
import { redeliveryDelayMs } from './hooks.ts';
import type { LogEntry, MemoryLog } from './memory-log.ts';
import type { EventEnvelope, EventHandler } from './port.ts';
import type { ResolvedDurable } from './durable-options.ts';
import { compilePattern, type SubjectMatcher } from './subject-pattern.ts';

/** An event delivered at least once and not yet acknowledged. */
interface Pending {
  entry: LogEntry;
  deliveries: number;
  state: 'inflight' | 'waiting' | 'ready';
  holder?: Member;
  timer?: ReturnType<typeof setTimeout>;
}

/** One subscriber; it handles one event at a time, which keeps its deliveries in order. */
interface Member {
  handler: EventHandler;
  current?: Pending;
  /** No new deliveries (unsubscribe started). */
  closed: boolean;
  /** Its in-flight event was handed back; a late result from the handler is ignored. */
  abandoned: boolean;
}

/** A durable consumer: its cursor and pending set survive while no member is subscribed. */
export class MemoryDurable {
  readonly pattern: string;
  private readonly matches: SubjectMatcher;
  private cursor: number;
  private readonly pending = new Map<number, Pending>();
  private ready: Pending[] = [];
  private members: Member[] = [];
  private turn = 0;
  private pumpQueued = false;

  constructor(
    private opts: ResolvedDurable,
    private readonly log: MemoryLog,
    private readonly hooks: BusHooks,
  ) {
    this.pattern = opts.pattern;
    this.matches = compilePattern(opts.pattern);
    const s = opts.start;
    this.cursor = s === 'all' ? log.firstSeq : s === 'new' ? log.nextSeq : 'sequence' in s ? s.sequence : log.seqAtTime(s.time.getTime());
  }

  /** Later subscribers may change the ack wait and delivery limit, as a JetStream consumer update would. */
  reconfigure(opts: ResolvedDurable): void {
    this.opts = opts;
  }

  /** Adds a subscriber handling up to `concurrency` events at once (one member per slot); returns its leave function. */
  join(handler: EventHandler, concurrency = 1): () => Promise<void> {
    const slots: Member[] = [];
    for (let i = 0; i < concurrency; i++) slots.push({ handler, closed: false, abandoned: false });
    this.members.push(...slots);
    this.schedulePump();
    return async () => {
      await Promise.all(slots.map((m) => this.leave(m)));
    };
  }

  /** Called after every append to the log. */
  notify(): void {
    this.schedulePump();
  }

  /** Stops every member and timer (bus close). */
  stop(): void {
    for (const m of this.members) m.closed = m.abandoned = true;
    this.members = [];
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }

  private async leave(member: Member): Promise<void> {
    if (member.closed) return;
    member.closed = true;
    this.members = this.members.filter((m) => m !== member);
    // Let a handler that has just resolved be acknowledged first: only a handler still running is abandoned.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const p = member.current;
    if (p && this.pending.get(p.entry.seq) === p && p.state === 'inflight' && p.holder === member) {
      member.abandoned = true;
      clearTimeout(p.timer);
      this.redeliverLater(p, 0);
    }
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Hands events to idle members: redeliveries first (oldest first), then new matching events from the cursor. */
  private pump(): void {
    for (;;) {
      const member = this.nextIdleMember();
      if (!member) return;
      const p = this.ready.shift() ?? this.nextFromCursor();
      if (!p) return;
      this.deliver(member, p);
    }
  }

  private nextIdleMember(): Member | undefined {
    const n = this.members.length;
    for (let i = 0; i < n; i++) {
      const m = this.members[(this.turn + i) % n]!;
      if (!m.current && !m.closed) {
        this.turn = (this.turn + i + 1) % n;
        return m;
      }
    }
    return undefined;
  }

  private nextFromCursor(): Pending | undefined {
    // Entries trimmed from the log before this consumer read them are lost, as with a stream's limits.
    if (this.cursor < this.log.firstSeq) this.cursor = this.log.firstSeq;
    while (this.cursor < this.log.nextSeq) {
      const entry = this.log.get(this.cursor++)!;
      if (!this.matches(entry.subject)) continue;
      const p: Pending = { entry, deliveries: 0, state: 'ready' };
      this.pending.set(entry.seq, p);
      return p;
    }
    return undefined;
  }

  private deliver(member: Member, p: Pending): void {
    p.deliveries++;
    p.state = 'inflight';
    p.holder = member;
    member.current = p;
    const delivery = p.deliveries;
    p.timer = setTimeout(() => this.ackTimedOut(p, delivery), this.opts.ackWaitMs);
    const event = JSON.parse(p.entry.json) as EventEnvelope;
    this.hooks.metrics?.delivered(event.type);
    // Always a later microtask: handlers never run inside publish or subscribe.
    Promise.resolve()
      .then(() => member.handler(event))
      .then(
        () => this.settled(member, p, delivery, undefined),
        (err: unknown) => this.settled(member, p, delivery, err ?? new Error('handler failed')),
      );
  }

  private settled(member: Member, p: Pending, delivery: number, err: unknown): void {
    member.current = undefined;
    if (!member.abandoned && this.pending.get(p.entry.seq) === p) {
      if (err === undefined) {
        // Any delivery's success acknowledges the event, even one that already timed out.
        clearTimeout(p.timer);
        this.pending.delete(p.entry.seq);
        this.ready = this.ready.filter((r) => r !== p);
      } else {
        this.hooks.log?.warn({ err, durable: this.opts.name, subject: p.entry.subject, deliveries: p.deliveries }, 'durable handler failed; will redeliver');
        if (p.state === 'inflight' && p.deliveries === delivery) {
          clearTimeout(p.timer);
          this.redeliverLater(p, redeliveryDelayMs(p.deliveries));
        }
      }
    }
    this.schedulePump();
  }

  private ackTimedOut(p: Pending, delivery: number): void {
    if (this.pending.get(p.entry.seq) === p && p.state === 'inflight' && p.deliveries === delivery) this.redeliverLater(p, 0);
  }

  /** Queues a redelivery after `delayMs`, unless the event has used up maxDeliver. */
  private redeliverLater(p: Pending, delayMs: number): void {
    p.holder = undefined;
    if (this.opts.maxDeliver !== undefined && p.deliveries >= this.opts.maxDeliver) {
      this.pending.delete(p.entry.seq);
      this.hooks.log?.warn({ durable: this.opts.name, subject: p.entry.subject, deliveries: p.deliveries }, 'durable event reached maxDeliver; dropped');
      return;
    }
    const makeReady = () => {
      p.state = 'ready';
      // Keep redeliveries in stream order.
      const at = this.ready.findIndex((r) => r.entry.seq > p.entry.seq);
      if (at < 0) this.ready.push(p);
      else this.ready.splice(at, 0, p);
      this.schedulePump();
    };
    if (delayMs <= 0) return makeReady();
    p.state = 'waiting';
    p.timer = setTimeout(makeReady, delayMs);
  }
}
