/**
 * KV and bus without a database: what a node daemon (e.g. `capstan agent`) needs. With a NATS URL, JetStream KV and
 * the NATS bus over one connection; without, the memory adapters (a one-process mesh for trying things out).
 */
import { connect as natsConnect } from '@nats-io/transport-node';
import type { EventBus } from '../bus/port.ts';
import { MemoryBus } from '../bus/memory-bus.ts';
import { NatsBus } from '../bus/nats-bus.ts';
import type { KvStore } from '../kv/port.ts';
import { MemoryKvStore } from '../kv/memory-kv.ts';
import { NatsKvStore } from '../kv/nats-kv.ts';

/** An open KV store and bus, closed together. */
export interface Coordination {
  mode: 'embedded' | 'distributed';
  kv: KvStore;
  bus: EventBus;
  close(): Promise<void>;
}

/** Opens the KV store and bus for `prefix` (the same prefix a server uses, so both see the same buckets and subjects). */
export async function openCoordination(opts: { natsUrl?: string; prefix: string; source: string }): Promise<Coordination> {
  if (!opts.natsUrl) {
    const kv = new MemoryKvStore();
    const bus = new MemoryBus({ source: opts.source });
    return { mode: 'embedded', kv, bus, close: async () => void (await Promise.all([bus.close(), kv.close()])) };
  }
  // A comma-separated list names several servers of one cluster; the client fails over between them.
  const nc = await natsConnect({ servers: opts.natsUrl.split(',').map((s) => s.trim()).filter(Boolean), name: opts.source, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const kv = new NatsKvStore({ connection: nc, prefix: opts.prefix });
  try {
    const bus = await NatsBus.connect({ connection: nc, prefix: opts.prefix, source: opts.source, timeoutMs: 2_000 });
    return {
      mode: 'distributed',
      kv,
      bus,
      async close() {
        await bus.close().catch(() => {});
        await kv.close().catch(() => {});
        await nc.drain().catch(() => nc.close());
      },
    };
  } catch (err) {
    await nc.close().catch(() => {});
    throw err;
  }
}
