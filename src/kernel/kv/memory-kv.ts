/** In-process KV for embedded mode: per-bucket revisions like a JetStream stream sequence, CAS writes, watch, bucket TTL. */
import { Conflict } from '../errors.ts';
import type { BucketOptions, Kv, KvChange, KvEntry, KvStore } from './port.ts';
import { validateBucket, validateKey, validatePrefix } from './keys.ts';

interface Stored {
  value: unknown;
  revision: number;
  expiry?: ReturnType<typeof setTimeout>;
}

/** One bucket; values are deep-copied through JSON so callers never share objects with the store. */
class MemoryBucket implements Kv {
  private readonly entries = new Map<string, Stored>();
  private readonly watchers = new Set<{ prefix: string; fn: (c: KvChange) => void }>();
  private seq = 0;

  constructor(readonly bucket: string, private readonly ttlMs?: number) {}

  /** Latest value of a live key. */
  async get<T>(key: string): Promise<KvEntry<T> | undefined> {
    validateKey(key);
    const e = this.entries.get(key);
    return e ? { key, value: structuredClone(e.value) as T, revision: e.revision } : undefined;
  }

  /** Unconditional write. */
  async put<T>(key: string, value: T): Promise<number> {
    validateKey(key);
    return this.write(key, value);
  }

  /** Write only if absent. */
  async create<T>(key: string, value: T): Promise<number> {
    validateKey(key);
    if (this.entries.has(key)) throw new Conflict(`key '${key}' exists`, { key, revision: this.entries.get(key)!.revision });
    return this.write(key, value);
  }

  /** Write only at the expected revision. */
  async update<T>(key: string, value: T, revision: number): Promise<number> {
    validateKey(key);
    const current = this.entries.get(key);
    if (!current || current.revision !== revision) throw new Conflict(`key '${key}' is not at revision ${revision}`, { key, expected: revision, actual: current?.revision ?? null });
    return this.write(key, value);
  }

  /** Delete, optionally only at a revision. */
  async delete(key: string, opts: { revision?: number } = {}): Promise<void> {
    validateKey(key);
    const current = this.entries.get(key);
    if (opts.revision !== undefined && current?.revision !== opts.revision) throw new Conflict(`key '${key}' is not at revision ${opts.revision}`, { key });
    if (!current) return;
    this.remove(key, current);
  }

  /** Live entries under a prefix, sorted by key. */
  async list<T>(prefix = ''): Promise<KvEntry<T>[]> {
    validatePrefix(prefix);
    return [...this.entries]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, e]) => ({ key, value: structuredClone(e.value) as T, revision: e.revision }));
  }

  /** Changes under a prefix from now on, delivered asynchronously. */
  async watch<T>(prefix: string, onChange: (change: KvChange<T>) => void): Promise<{ stop(): Promise<void> }> {
    validatePrefix(prefix);
    const w = { prefix, fn: onChange as (c: KvChange) => void };
    this.watchers.add(w);
    return {
      stop: async () => {
        this.watchers.delete(w);
      },
    };
  }

  private write(key: string, value: unknown): number {
    const copy = value === undefined ? null : JSON.parse(JSON.stringify(value));
    const previous = this.entries.get(key);
    if (previous?.expiry) clearTimeout(previous.expiry);
    const stored: Stored = { value: copy, revision: ++this.seq };
    // Bucket-level TTL, as on NATS 2.9: the entry vanishes ttl after its last write, one timer per live entry.
    if (this.ttlMs) {
      stored.expiry = setTimeout(() => this.expire(key, stored), this.ttlMs);
      stored.expiry.unref?.();
    }
    this.entries.set(key, stored);
    this.notify({ op: 'put', key, value: copy, revision: stored.revision });
    return stored.revision;
  }

  /** Expiry writes nothing, as when JetStream ages a message out: no revision is used and watchers see nothing. */
  private expire(key: string, stored: Stored): void {
    if (this.entries.get(key) === stored) this.entries.delete(key);
  }

  private remove(key: string, stored: Stored): void {
    if (stored.expiry) clearTimeout(stored.expiry);
    this.entries.delete(key);
    this.notify({ op: 'delete', key, revision: ++this.seq });
  }

  private notify(change: KvChange): void {
    for (const w of this.watchers) {
      if (change.key.startsWith(w.prefix)) queueMicrotask(() => w.fn(structuredClone(change)));
    }
  }

  /** Stops all expiry timers. */
  close(): void {
    for (const e of this.entries.values()) if (e.expiry) clearTimeout(e.expiry);
    this.watchers.clear();
  }
}

/** The embedded KvStore: buckets live as long as the process. */
export class MemoryKvStore implements KvStore {
  private readonly buckets = new Map<string, MemoryBucket>();

  /** Opens (or creates) a bucket; the TTL is fixed by the first open, as on NATS. */
  async bucket(name: string, opts: BucketOptions = {}): Promise<Kv> {
    validateBucket(name);
    let b = this.buckets.get(name);
    if (!b) {
      b = new MemoryBucket(name, opts.ttlMs);
      this.buckets.set(name, b);
    }
    return b;
  }

  /** Always reachable. */
  async ping(): Promise<void> {}

  /** Drops every bucket. */
  async close(): Promise<void> {
    for (const b of this.buckets.values()) b.close();
    this.buckets.clear();
  }
}
