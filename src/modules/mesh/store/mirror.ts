/**
 * A local copy of one bucket kept current by a KV watch, so an idle agent reads nothing on its timers: it lists the
 * bucket once (and on `resync`), then applies changes as they arrive. Revisions order the two sources: a change
 * older than what the copy holds is ignored, and deleted keys remember their revision so a slow list cannot bring
 * them back.
 */
import type { Kv, KvChange, KvEntry } from '../../../kernel/index.ts';

export class BucketMirror<T> {
  private readonly live = new Map<string, KvEntry<T>>();
  /** Revision at which a key was deleted (kept so an older list entry does not resurrect it). */
  private readonly gone = new Map<string, number>();
  private watcher?: { stop(): Promise<void> };
  /** Called after every change the watch delivers (not after resyncs). */
  onChange?: (c: KvChange<T>) => void;

  constructor(readonly kv: Kv, private readonly prefix = '') {}

  /** Starts the watch before the first list so no change falls between the two. */
  async start(): Promise<void> {
    this.watcher = await this.kv.watch<T>(this.prefix, (c) => {
      this.apply(c);
      this.onChange?.(c);
    });
    await this.resync();
  }

  /** Re-lists the bucket: the fallback for a watch that may have missed changes (lost connection). */
  async resync(restartWatch = false): Promise<void> {
    if (restartWatch && this.watcher) {
      await this.watcher.stop().catch(() => {});
      this.watcher = await this.kv.watch<T>(this.prefix, (c) => {
        this.apply(c);
        this.onChange?.(c);
      });
    }
    // Keys changed by the watch while the list runs are newer than the listing; only older ones may be dropped.
    const before = new Map([...this.live].map(([k, e]) => [k, e.revision]));
    const entries = await this.kv.list<T>(this.prefix);
    const listed = new Set<string>();
    for (const e of entries) {
      listed.add(e.key);
      this.apply({ op: 'put', key: e.key, value: e.value, revision: e.revision });
    }
    // Keys the list no longer has were deleted while the watch was not looking; the listing is newer than them.
    for (const [key, e] of [...this.live]) if (!listed.has(key) && before.get(key) === e.revision) this.live.delete(key);
  }

  private apply(c: KvChange<T>): void {
    const have = this.live.get(c.key)?.revision ?? this.gone.get(c.key) ?? 0;
    if (c.revision <= have) return;
    if (c.op === 'delete') {
      this.live.delete(c.key);
      this.gone.set(c.key, c.revision);
    } else {
      this.gone.delete(c.key);
      this.live.set(c.key, { key: c.key, value: c.value as T, revision: c.revision });
    }
  }

  /** Live entries sorted by key, as `Kv.list` returns them. */
  list(): KvEntry<T>[] {
    return [...this.live.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  get(key: string): KvEntry<T> | undefined {
    return this.live.get(key);
  }

  async stop(): Promise<void> {
    await this.watcher?.stop().catch(() => {});
    this.watcher = undefined;
  }
}
