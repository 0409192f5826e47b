/** KV on NATS JetStream KV (server 2.9: bucket-level TTL only). Values are JSON; CAS failures become Conflict. */
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Conflict, Unavailable } from '../errors.ts';
import type { BucketOptions, Kv, KvChange, KvEntry, KvStore } from './port.ts';
import { validateBucket, validateKey, validatePrefix } from './keys.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** True for JetStream's "wrong last sequence" answer to an expected-revision write. */
function isWrongSequence(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.code === 10071 || e?.api_error?.err_code === 10071 || /wrong last sequence/i.test(e?.message ?? '');
}

function decode<T>(data: Uint8Array): T {
  return JSON.parse(decoder.decode(data)) as T;
}

/** One JetStream KV bucket behind the Kv port. */
class NatsBucket implements Kv {
  constructor(readonly bucket: string, private readonly kv: KV) {}

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
    const keys: string[] = [];
    for await (const k of await this.kv.keys()) if (k.startsWith(prefix)) keys.push(k);
    keys.sort();
    const out: KvEntry<T>[] = [];
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
        if (e.operation === 'PUT') onChange({ op: 'put', key: e.key, value: decode<T>(e.value), revision: e.revision });
        else onChange({ op: 'delete', key: e.key, revision: e.revision });
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
  private kvm?: Kvm;
  private readonly opened = new Map<string, NatsBucket>();
  private ownsConnection = false;

  constructor(private readonly opts: NatsKvStoreOptions) {
    this.nc = opts.connection;
  }

  private async manager(): Promise<Kvm> {
    if (!this.nc) {
      if (!this.opts.url) throw new Unavailable('NatsKvStore needs a connection or a url');
      this.nc = await connect({ servers: this.opts.url, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
      this.ownsConnection = true;
    }
    this.kvm ??= new Kvm(this.nc);
    return this.kvm;
  }

  /** The stream-level bucket name for a kernel bucket name. */
  bucketName(name: string): string {
    return `${this.opts.prefix}_${name}`.replace(/[^-_A-Za-z0-9]/g, '_');
  }

  /** Opens or creates a bucket; `ttlMs` applies to the whole bucket (NATS 2.9). */
  async bucket(name: string, opts: BucketOptions = {}): Promise<Kv> {
    validateBucket(name);
    const full = this.bucketName(name);
    const cached = this.opened.get(full);
    if (cached) return cached;
    const kvm = await this.manager();
    const kv = await kvm.create(full, { history: 1, ...(opts.ttlMs ? { ttl: opts.ttlMs } : {}) });
    const b = new NatsBucket(name, kv);
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
    for await (const s of kvm.list()) if (s.bucket.startsWith(`${this.opts.prefix}_`)) names.push(s.bucket);
    for (const n of names) await (await kvm.open(n)).destroy().catch(() => false);
    this.opened.clear();
  }

  /** Throws while the connection is down. */
  async ping(): Promise<void> {
    await this.manager();
    if (this.nc!.isClosed()) throw new Unavailable('NATS connection is closed');
    await Promise.race([this.nc!.flush(), new Promise((_, rej) => setTimeout(() => rej(new Unavailable('NATS did not answer within 2 s')), 2_000))]);
  }

  /** Closes the connection if this store opened it. */
  async close(): Promise<void> {
    this.opened.clear();
    if (this.ownsConnection && this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc?.close());
  }
}
