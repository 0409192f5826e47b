/** KV on NATS JetStream KV (server 2.9: bucket-level TTL only). Values are JSON; CAS failures become Conflict. */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Conflict, Unavailable } from '../errors.ts';
import type { BucketOptions, Kv, KvChange, KvEntry, KvStore } from './port.ts';
import { validateBucket, validateKey, validatePrefix } from './keys.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** JetStream API codes for a failed expected-last-sequence check (10164: the "unknown" variant). */
const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);

/** True for JetStream's "wrong last sequence" answer to an expected-revision write. */
function isWrongSequence(err: unknown): boolean {
  const e = err as { code?: unknown; message?: string };
  return WRONG_LAST_SEQUENCE.has(e?.code as number) || /wrong last sequence/i.test(e?.message ?? '');
}

/** Runs a watch callback so that its exception surfaces like an event listener's without ending the watch. */
function deliver<T>(fn: (c: KvChange<T>) => void, change: KvChange<T>): void {
  try {
    fn(change);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

/** Bucket names allow only letters, digits, - and _; anything else in a prefix becomes _. */
function sanitise(name: string): string {
  return name.replace(/[^-_A-Za-z0-9]/g, '_');
}

function decode<T>(data: Uint8Array): T {
  return JSON.parse(decoder.decode(data)) as T;
}

/** One JetStream KV bucket behind the Kv port. */
class NatsBucket implements Kv {
  constructor(
    readonly bucket: string,
    private readonly kv: KV,
    /** The bucket's name on the server (with the store's prefix); its stream is `KV_<name>`. */
    private readonly serverName: string,
    private readonly jsm: JetStreamManager,
  ) {}

  /** Latest live value, or undefined when absent, deleted or expired. */
  async get<T>(key: string): Promise<KvEntry<T> | undefined> {
    validateKey(key);
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return undefined;
    return { key, value: decode<T>(e.value), revision: e.revision };
  }

  /** Unconditional write. */
  async put<T>(key: string, value: T): Promise<number> {
    validateKey(key);
    return this.kv.put(key, encoder.encode(JSON.stringify(value ?? null)));
  }

  /** Write only if absent (or deleted/expired). */
  async create<T>(key: string, value: T): Promise<number> {
    validateKey(key);
    try {
      return await this.kv.create(key, encoder.encode(JSON.stringify(value ?? null)));
    } catch (err) {
      if (isWrongSequence(err)) throw new Conflict(`key '${key}' exists`, { key });
      throw err;
    }
  }

  /** Write only at the expected revision. */
  async update<T>(key: string, value: T, revision: number): Promise<number> {
    validateKey(key);
    if (!Number.isInteger(revision) || revision <= 0) throw new Conflict(`key '${key}' is not at revision ${revision}`, { key });
    try {
      return await this.kv.update(key, encoder.encode(JSON.stringify(value ?? null)), revision);
    } catch (err) {
      if (isWrongSequence(err)) throw new Conflict(`key '${key}' is not at revision ${revision}`, { key, expected: revision });
      throw err;
    }
  }

  /** Writes a delete marker, optionally only at a revision. */
  async delete(key: string, opts: { revision?: number } = {}): Promise<void> {
    validateKey(key);
    try {
      await this.kv.delete(key, opts.revision !== undefined ? { previousSeq: opts.revision } : undefined);
    } catch (err) {
      if (isWrongSequence(err)) throw new Conflict(`key '${key}' is not at revision ${opts.revision}`, { key });
      throw err;
    }
  }

  /** Live entries under a prefix, sorted by key (one read per key: fine for the small buckets the kernel keeps). */
  async list<T>(prefix = ''): Promise<KvEntry<T>[]> {
    validatePrefix(prefix);
    // Not the client's key listing (KV.keys()): an ordered consumer with last-per-subject delivery that stops when a
    // message says nothing is pending. NATS 2.9.10 fixes the sequences to send when the consumer is created; one that
    // a rewrite removed meanwhile is replaced by the next message in the stream (often another key's, sent again),
    // and every send counts down `pending`, so the listing ends with keys never sent (1 in ~100 listings under three
    // writers; test/contract/kv-contract.ts). The stream's subject counts are one answer taken under the stream's
    // lock: every key that had a message at that instant, once. (Above 100,000 keys the server pages the answer,
    // and the pages are separate instants; the kernel's buckets hold far fewer.)
    const subjectPrefix = `$KV.${this.serverName}.`;
    // The server filters by subject when the prefix ends at a token boundary; otherwise we filter here.
    const filter = `${subjectPrefix}${prefix === '' || !prefix.endsWith('.') ? '>' : `${prefix}>`}`;
    const info = await this.jsm.streams.info(`KV_${this.serverName}`, { subjects_filter: filter });
    const keys = Object.keys(info.state.subjects ?? {})
      .map((s) => s.slice(subjectPrefix.length))
      .filter((k) => k.startsWith(prefix))
      .sort();
    const out: KvEntry<T>[] = [];
    // Deleted and purged keys keep a marker message: get() answers undefined for them.
    for (const k of keys) {
      const e = await this.get<T>(k);
      if (e) out.push(e);
    }
    return out;
  }

  /** Changes under a prefix from now on (updates only, no replay of current values). */
  async watch<T>(prefix: string, onChange: (change: KvChange<T>) => void): Promise<{ stop(): Promise<void> }> {
    validatePrefix(prefix);
    // A filter must end at a token boundary; for other prefixes watch everything and filter here.
    const filter = prefix === '' ? '>' : prefix.endsWith('.') ? `${prefix}>` : undefined;
    const iter = await this.kv.watch({ key: filter ?? '>', include: KvWatchInclude.UpdatesOnly });
    void (async () => {
      for await (const e of iter) {
        if (!e.key.startsWith(prefix)) continue;
        if (e.operation === 'PUT') deliver(onChange, { op: 'put', key: e.key, value: decode<T>(e.value), revision: e.revision });
        else deliver(onChange, { op: 'delete', key: e.key, revision: e.revision });
      }
    })();
    return {
      stop: async () => {
        iter.stop();
      },
    };
  }
}

/** Options of the NATS KV adapter. */
export interface NatsKvStoreOptions {
  /** An open connection (shared with the bus); or a URL to open one. */
  connection?: NatsConnection;
  url?: string;
  /** Prepended to bucket names (`<prefix>_<name>`) so deployments and test files do not collide. */
  prefix: string;
}

/** KvStore over NATS JetStream KV. */
export class NatsKvStore implements KvStore {
  private nc?: NatsConnection;
  private connecting?: Promise<Kvm>;
  private readonly opened = new Map<string, NatsBucket>();
  private ownsConnection = false;
  private jsm?: JetStreamManager;

  constructor(private readonly opts: NatsKvStoreOptions) {
    this.nc = opts.connection;
  }

  /** Connects once; concurrent first calls share one attempt, and a failed attempt is retried on the next call. */
  private manager(): Promise<Kvm> {
    this.connecting ??= this.open().catch((err) => {
      this.connecting = undefined;
      throw err instanceof Unavailable ? err : new Unavailable(`NATS at ${this.opts.url} is unreachable: ${(err as Error).message}`);
    });
    return this.connecting;
  }

  private async open(): Promise<Kvm> {
    if (!this.nc) {
      if (!this.opts.url) throw new Unavailable('NatsKvStore needs a connection or a url');
      // Once connected, the client reconnects forever; meanwhile requests fail and ping() reports Unavailable.
      this.nc = await connect({ servers: this.opts.url, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
      this.ownsConnection = true;
    }
    this.jsm = await jetstreamManager(this.nc);
    return new Kvm(this.nc);
  }

  /** The stream-level bucket name for a kernel bucket name. */
  bucketName(name: string): string {
    return sanitise(`${this.opts.prefix}_${name}`);
  }

  /** Opens or creates a bucket; `ttlMs` applies to the whole bucket (NATS 2.9). */
  async bucket(name: string, opts: BucketOptions = {}): Promise<Kv> {
    validateBucket(name);
    const full = this.bucketName(name);
    const cached = this.opened.get(full);
    if (cached) return cached;
    const kvm = await this.manager();
    // Only options NATS 2.9 understands: history and ttl (stream max_age). If the bucket exists, the client
    // binds to it without changing its config, so the first opener fixes the TTL (as in the memory adapter).
    const kv = await kvm.create(full, { history: 1, ...(opts.ttlMs ? { ttl: opts.ttlMs } : {}) });
    const b = new NatsBucket(name, kv, full, this.jsm!);
    this.opened.set(full, b);
    return b;
  }

  /** Deletes one bucket and its data (tests and tooling). */
  async destroyBucket(name: string): Promise<void> {
    const kvm = await this.manager();
    const full = this.bucketName(name);
    this.opened.delete(full);
    const kv = await kvm.open(full);
    await kv.destroy().catch(() => false);
  }

  /** Deletes every bucket under this store's prefix (test cleanup). */
  async destroyAll(): Promise<void> {
    const kvm = await this.manager();
    const names: string[] = [];
    const mine = sanitise(`${this.opts.prefix}_`);
    for await (const s of kvm.list()) if (s.bucket.startsWith(mine)) names.push(s.bucket);
    for (const n of names) await (await kvm.open(n)).destroy().catch(() => false);
    this.opened.clear();
  }

  /** Throws Unavailable while the connection is down (a round trip to the server must answer within 2 s). */
  async ping(): Promise<void> {
    await this.manager();
    const nc = this.nc!;
    if (nc.isClosed()) throw new Unavailable('NATS connection is closed');
    let timer: ReturnType<typeof setTimeout> | undefined;
    // While reconnecting, flush() waits for the new connection, so the timeout is what reports the outage.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Unavailable('NATS did not answer within 2 s')), 2_000);
    });
    try {
      await Promise.race([nc.flush(), timeout]);
    } catch (err) {
      throw err instanceof Unavailable ? err : new Unavailable(`NATS ping failed: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection if this store opened it; during an outage drain cannot finish, so it is bounded. */
  async close(): Promise<void> {
    this.opened.clear();
    const nc = this.nc;
    if (!this.ownsConnection || !nc || nc.isClosed()) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bounded = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2_000);
    });
    await Promise.race([nc.drain().catch(() => {}), bounded]);
    clearTimeout(timer);
    if (!nc.isClosed()) await nc.close().catch(() => {});
  }
}
