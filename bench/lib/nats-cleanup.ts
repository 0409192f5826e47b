/** Deletes the JetStream KV buckets a benchmark created, found by its unique prefix. */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** Deletes every KV bucket (stream `KV_<bucket>`) whose name contains `prefix`; returns the names deleted. */
export async function deleteKvBuckets(nc: NatsConnection, prefix: string): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const deleted: string[] = [];
  const wanted = prefix.toLowerCase();
  for await (const s of jsm.streams.list()) {
    const n = s.config.name;
    if (n.startsWith('KV_') && n.toLowerCase().includes(wanted)) {
      await jsm.streams.delete(n);
      deleted.push(n);
    }
  }
  return deleted;
}
