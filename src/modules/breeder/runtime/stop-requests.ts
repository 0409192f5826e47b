/**
 * Stops asked for while the database is away. A stop is normally a status change in PostgreSQL that each loop sees
 * as a refused claim; with the database down the API cannot write it and the loops cannot read it, while they go
 * on trialling from their buffers. So the API puts the request in a KV bucket (NATS JetStream KV in distributed mode,
 * memory when embedded: it does not depend on PostgreSQL), every running loop watches it and stops effectuating at
 * once, and the first loop to reach the database again records the stop (then clears the request).
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

/** The stop requests of one process. */
export class StopRequests {
  private opened: Promise<Kv> | undefined;
  private watching: Promise<{ stop(): Promise<void> }> | undefined;
  private readonly listeners = new Set<(key: string, value: StopRequest | undefined) => void>();

  constructor(private readonly kv: KvStore) {}

  private bucket(): Promise<Kv> {
    this.opened ??= this.kv.bucket(BUCKET, { ttlMs: TTL_MS }).catch((err) => {
      this.opened = undefined; // try again next time (NATS may be away too)
      throw err;
    });
    return this.opened;
  }

  /** Asks every loop of the breeder named `idOrName` (its id or its name, as the route got it) to stop. */
  async request(idOrName: string): Promise<StopRequest> {
    // A token no breeder can have is a 404, as with the database up.
    if (!TOKEN.test(idOrName)) throw new NotFound(`breeder '${idOrName}'`);
    const r: StopRequest = { requestedAt: new Date().toISOString() };
    await (await this.bucket()).put(`stop.${idOrName}`, r);
    return r;
  }

  /**
   * Calls `onStop` once when a stop is asked for the breeder (by id or by name) after `startedAt`, including one asked
   * before the watch began. Answers the watch's handle. One KV watch serves every slot of the process (a JetStream
   * watch is a consumer on the server: one per slot would be hundreds).
   */
  async watch(ref: { id: string; name: string }, startedAt: Date, onStop: () => void): Promise<{ stop(): Promise<void> }> {
    const kv = await this.bucket();
    const keys = new Set([`stop.${ref.id}`, `stop.${ref.name}`]);
    let called = false;
    const seen = (value: StopRequest | undefined) => {
      if (called || !value || Date.parse(value.requestedAt) < startedAt.getTime()) return;
      called = true;
      onStop();
    };
    const listener = (key: string, value: StopRequest | undefined) => {
      if (keys.has(key)) seen(value);
    };
    this.listeners.add(listener);
    try {
      this.watching ??= kv
        .watch<StopRequest>('stop.', (c) => {
          if (c.op === 'put') for (const l of this.listeners) l(c.key, c.value);
        })
        .catch((err) => {
          this.watching = undefined;
          throw err;
        });
      await this.watching;
      for (const k of keys) seen((await kv.get<StopRequest>(k))?.value);
    } catch (err) {
      this.listeners.delete(listener);
      throw err;
    }
    return { stop: async () => void this.listeners.delete(listener) };
  }

  /** Ends the shared watch (the module stops). */
  async close(): Promise<void> {
    const w = this.watching;
    this.watching = undefined;
    this.listeners.clear();
    await (await w?.catch(() => undefined))?.stop();
  }

  /** Forgets the breeder's requests once its stop is recorded. */
  async clear(ref: { id: string; name: string }): Promise<void> {
    const kv = await this.bucket();
    await Promise.all([kv.delete(`stop.${ref.id}`), kv.delete(`stop.${ref.name}`)]);
  }
}
