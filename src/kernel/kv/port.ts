/** The KV port (revisioned key-value buckets with watch) and the Lease port built on it. */

/** One stored value with the revision of the write that produced it. */
export interface KvEntry<T = unknown> {
  key: string;
  value: T;
  revision: number;
}

/** A change seen by `watch`. */
export interface KvChange<T = unknown> {
  op: 'put' | 'delete';
  key: string;
  value?: T;
  revision: number;
}

/** Options for opening a bucket. */
export interface BucketOptions {
  /**
   * Entries vanish this long after their last write (NATS 2.9: bucket-level TTL only). Expiry is silent:
   * watchers get no delete for it. The first opener of a bucket fixes its TTL.
   */
  ttlMs?: number;
}

/** A bucket of JSON values. Keys are dot-separated tokens of `[-_=/A-Za-z0-9]`. Every write returns its revision. */
export interface Kv {
  readonly bucket: string;
  get<T = unknown>(key: string): Promise<KvEntry<T> | undefined>;
  put<T>(key: string, value: T): Promise<number>;
  /** Writes only if the key is absent (or deleted); otherwise throws Conflict. */
  create<T>(key: string, value: T): Promise<number>;
  /** Writes only if the key's latest revision is `revision`; otherwise throws Conflict. */
  update<T>(key: string, value: T, revision: number): Promise<number>;
  /** Deletes the key; with `revision`, only if it is still at that revision (Conflict otherwise). */
  delete(key: string, opts?: { revision?: number }): Promise<void>;
  /**
   * Live entries whose key starts with `prefix` (empty: all), sorted by key, each key once. Under concurrent writes:
   * a key that exists from before the call until it returns is listed, at a value at least as new as the one it had
   * when the call began; a key created or deleted during the call may or may not be listed. Values are read key by
   * key, not as one snapshot of the bucket.
   */
  list<T = unknown>(prefix?: string): Promise<KvEntry<T>[]>;
  /** Changes to keys starting with `prefix` from now on (current values are not replayed). */
  watch<T = unknown>(prefix: string, onChange: (change: KvChange<T>) => void): Promise<{ stop(): Promise<void> }>;
}

/** Factory for buckets; one per process. Adapters: memory and NATS JetStream KV. */
export interface KvStore {
  bucket(name: string, opts?: BucketOptions): Promise<Kv>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A lease that this process holds. */
export interface LeaseHolder {
  readonly name: string;
  readonly owner: string;
  /** Fencing token: the KV revision of the winning acquire; strictly increases across holders. */
  readonly token: number;
  /** Aborted when the lease is lost or released. Fires locally before the TTL can elapse elsewhere. */
  readonly lost: AbortSignal;
  /** Extends the lease; throws Conflict if it was lost. Called automatically unless autoRenew is false. */
  renew(): Promise<void>;
  /** Gives the lease up so another can take it at once. */
  release(): Promise<void>;
}

/** Who holds a lease, as anyone can read it. */
export interface LeaseInfo {
  name: string;
  owner: string;
  token: number;
  acquiredAt: string;
}

/** Options for acquiring a lease. */
export interface AcquireOptions {
  ttlMs: number;
  /** Renew every ttl/3 in the background (default true). */
  autoRenew?: boolean;
}

/** Leases with fencing tokens. */
export interface Leases {
  /** Returns the holder, or undefined when someone else holds the lease. */
  acquire(name: string, opts: AcquireOptions): Promise<LeaseHolder | undefined>;
  /** Current holder, if any. */
  holder(name: string, ttlMs: number): Promise<LeaseInfo | undefined>;
}
