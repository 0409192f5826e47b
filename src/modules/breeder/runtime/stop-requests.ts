/**
 * Stops asked for while the database is away. A stop is normally a status change in PostgreSQL that each loop sees
 * as a refused claim; with the database down the API cannot write it and the loops cannot read it, while they go
 * on trialling from their buffers. So the API puts the request in a KV bucket (NATS JetStream KV in distributed mode,
 * memory when embedded: it does not depend on PostgreSQL), every running loop watches it and stops effectuating at
 * once, and the first loop to reach the database again records the stop (then clears the request).
 *
 * With NATS away as well, nothing shared can hold the request. Then this process's own loops of the breeder are told
 * directly (they watch through this object, so they stop before their next trial just the same), and the request is
 * kept in this process's memory and put into the KV as soon as NATS answers (tried every `retryMs`), for the loops of
 * other instances; the service also writes it to the database as soon as that answers (BreederService.stop). A
 * request kept only in memory is lost if this process ends first: the API's answer says so.
 */
import { NotFound, type Kv, type KvStore } from '../../../kernel/index.ts';

const BUCKET = 'breeder-stops';
/** A request nobody recorded (no loop was running) is gone after this; it never applies to a later start anyway. */
const TTL_MS = 7 * 24 * 3600_000;
/** What a route may name a breeder by (an id or a name), as a KV key token. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** One request: who asked for it, when (it applies only to a breeder started before then). */
export interface StopRequest {
  requestedAt: string;
}

/** A request as request() answers it: whether the KV holds it (every instance's loops learn of it) or only this process. */
export interface StopRequestResult extends StopRequest {
  shared: boolean;
}

/** How long request() waits for the KV before answering that the request is kept locally (a NATS client that is reconnecting holds requests until its own timeout). */
const PUT_WAIT_MS = 1_500;

/** One loop's interest: the keys of its breeder and what to call once. */
interface Listener {
  keys: Set<string>;
  seen(value: StopRequest | undefined): void;
}

/** The stop requests of one process. */
export class StopRequests {
  private opened: Promise<Kv> | undefined;
  private watching: Promise<{ stop(): Promise<void> }> | undefined;
  private readonly listeners = new Set<Listener>();
  /** Requests the KV does not hold yet, by key (`stop.<id or name>`): told to this process's loops, put into the KV when it answers. */
  private readonly pending = new Map<string, StopRequest>();
  /** Listeners whose loops started while the KV watch could not be set up: they get the KV's requests once it can. */
  private readonly unwatched = new Set<Listener>();
  private retry: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly kv: KvStore,
    private readonly opts: { retryMs?: number; putWaitMs?: number } = {},
  ) {}

  private bucket(): Promise<Kv> {
    this.opened ??= this.kv.bucket(BUCKET, { ttlMs: TTL_MS }).catch((err) => {
      this.opened = undefined; // try again next time (NATS may be away too)
      throw err;
    });
    return this.opened;
  }

  /**
   * Asks every loop of the breeder named `idOrName` (its id or its name, as the route got it) to stop. This process's
   * loops are told at once whatever happens; the answer says whether the KV holds the request as well (`shared`), or
   * only this process's memory until NATS answers again.
   */
  async request(idOrName: string): Promise<StopRequestResult> {
    // A token no breeder can have is a 404, as with the database up.
    if (!TOKEN.test(idOrName)) throw new NotFound(`breeder '${idOrName}'`);
    const r: StopRequest = { requestedAt: new Date().toISOString() };
    const key = `stop.${idOrName}`;
    this.pending.set(key, r);
    for (const l of this.listeners) if (l.keys.has(key)) l.seen(r);
    const put = this.deliver(key, r);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.opts.putWaitMs ?? PUT_WAIT_MS)));
    const shared = await Promise.race([put, waited]).finally(() => clearTimeout(timer));
    if (!shared) this.scheduleRetry();
    return { ...r, shared };
  }

  /** Puts one pending request into the KV; true once it is there (and no longer pending). */
  private async deliver(key: string, r: StopRequest): Promise<boolean> {
    try {
      await (await this.bucket()).put(key, r);
      if (this.pending.get(key) === r) this.pending.delete(key);
      return true;
    } catch {
      return false;
    }
  }

  /** True once close() ran (the module stops): nothing is delivered any more. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Requests held only here, by key (for the service's log and for tests). */
  held(): string[] {
    return [...this.pending.keys()];
  }

  /** While requests are held or loops are unwatched, tries the KV again every retryMs. */
  private scheduleRetry(): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(async () => {
      this.retry = undefined;
      for (const [key, r] of [...this.pending]) await this.deliver(key, r);
      if (this.unwatched.size) {
        try {
          const kv = await this.sharedWatch();
          for (const l of [...this.unwatched]) {
            for (const k of l.keys) l.seen((await kv.get<StopRequest>(k))?.value);
            this.unwatched.delete(l);
          }
        } catch {
          // still away: next round
        }
      }
      if (this.pending.size || this.unwatched.size) this.scheduleRetry();
    }, this.opts.retryMs ?? 2_000);
    this.retry.unref?.();
  }

  /** The one KV watch of the process (a JetStream watch is a consumer on the server: one per slot would be hundreds). */
  private async sharedWatch(): Promise<Kv> {
    const kv = await this.bucket();
    this.watching ??= kv
      .watch<StopRequest>('stop.', (c) => {
        if (c.op === 'put') for (const l of this.listeners) if (l.keys.has(c.key)) l.seen(c.value);
      })
      .catch((err) => {
        this.watching = undefined;
        throw err;
      });
    await this.watching;
    return kv;
  }

  /**
   * Calls `onStop` once when a stop is asked for the breeder (by id or by name) after `startedAt`, including one asked
   * before the watch began, whether through the KV or to this process while the KV was away. Answers the watch's
   * handle and whether the KV is watched (`shared`); when it is not (NATS away), the loop still hears this process's
   * requests, and the KV's once it answers (tried every retryMs).
   */
  async watch(ref: { id: string; name: string }, startedAt: Date, onStop: () => void): Promise<{ stop(): Promise<void>; shared: boolean }> {
    const keys = new Set([`stop.${ref.id}`, `stop.${ref.name}`]);
    let called = false;
    const listener: Listener = {
      keys,
      seen: (value) => {
        if (called || !value || Date.parse(value.requestedAt) < startedAt.getTime()) return;
        called = true;
        onStop();
      },
    };
    this.listeners.add(listener);
    const handle = { stop: async () => void (this.listeners.delete(listener), this.unwatched.delete(listener)) };
    for (const k of keys) listener.seen(this.pending.get(k));
    try {
      const kv = await this.sharedWatch();
      for (const k of keys) listener.seen((await kv.get<StopRequest>(k))?.value);
      return { ...handle, shared: true };
    } catch {
      this.unwatched.add(listener);
      this.scheduleRetry();
      return { ...handle, shared: false };
    }
  }

  /** Ends the shared watch and the retries (the module stops); requests still held here are lost. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    const w = this.watching;
    this.watching = undefined;
    this.listeners.clear();
    this.unwatched.clear();
    await (await w?.catch(() => undefined))?.stop();
  }

  /** Forgets the breeder's requests once its stop is recorded (here, and in the KV). */
  async clear(ref: { id: string; name: string }): Promise<void> {
    this.forget(ref);
    const kv = await this.bucket();
    await Promise.all([kv.delete(`stop.${ref.id}`), kv.delete(`stop.${ref.name}`)]);
  }

  /** Drops what this process holds for the breeder (the database has the stop now): nothing more to deliver. */
  forget(ref: { id: string; name: string } | string): void {
    for (const token of typeof ref === 'string' ? [ref] : [ref.id, ref.name]) this.pending.delete(`stop.${token}`);
  }
}
