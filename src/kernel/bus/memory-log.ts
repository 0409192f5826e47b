/** The memory bus's bounded event log: what JetStream's stream is for the NATS adapter. */

/** One stored event; `seq` starts at 1 like a JetStream stream sequence. */
export interface LogEntry {
  seq: number;
  timeMs: number;
  /** The subject: the event type plus any routing tokens. */
  subject: string;
  json: string;
}

/** An append-only log that keeps the newest `limit` entries and deduplicates ids within a window. */
export class MemoryLog {
  private entries: LogEntry[] = [];
  private first = 1;
  private readonly seen = new Map<string, number>();
  /** Ids in insertion order, oldest at `head`, so expiry never rescans the map. */
  private readonly order: { id: string; t: number }[] = [];
  private head = 0;

  constructor(
    private readonly limit: number,
    private readonly duplicateWindowMs: number,
  ) {}

  /** Appends an event, or returns undefined when its id was already stored within the duplicate window. */
  append(id: string, subject: string, json: string): LogEntry | undefined {
    const now = Date.now();
    this.forgetOldIds(now);
    if (this.seen.has(id)) return undefined;
    this.seen.set(id, now);
    this.order.push({ id, t: now });
    const entry = { seq: this.first + this.entries.length, timeMs: now, subject, json };
    this.entries.push(entry);
    if (this.entries.length > this.limit) {
      // Trim in chunks so a full log does not shift the array on every publish.
      const drop = Math.max(1, Math.floor(this.limit / 10));
      this.entries = this.entries.slice(drop);
      this.first += drop;
    }
    return entry;
  }

  /** Sequence of the oldest kept entry. */
  get firstSeq(): number {
    return this.first;
  }

  /** Sequence the next appended entry will get. */
  get nextSeq(): number {
    return this.first + this.entries.length;
  }

  /** The entry with sequence `seq`, if still kept. */
  get(seq: number): LogEntry | undefined {
    return this.entries[seq - this.first];
  }

  /** The first sequence stored at or after `timeMs` (nextSeq when none). */
  seqAtTime(timeMs: number): number {
    // Entries are appended in time order, so binary search.
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.timeMs < timeMs) lo = mid + 1;
      else hi = mid;
    }
    return this.first + lo;
  }

  private forgetOldIds(now: number): void {
    // A queue with a head index, not Map iteration: iterating a Map from its start walks over every
    // deleted slot again, which made each append O(ids forgotten so far).
    while (this.head < this.order.length) {
      const oldest = this.order[this.head]!;
      if (now - oldest.t < this.duplicateWindowMs && this.seen.size <= this.limit) break;
      if (this.seen.get(oldest.id) === oldest.t) this.seen.delete(oldest.id);
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}
