/** Removes what a test deployment under one prefix left in the shared NATS (stream, KV buckets) and Redis (keys). */
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { streamNameFor } from '../../src/kernel/bus/nats-stream.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { NATS_URL, REDIS_URL } from './env.ts';

/** Best effort: a service that is down (a fault test may have stopped it) is skipped. */
export async function removeDeploymentData(prefix: string, natsUrl = NATS_URL): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 2_000 }).catch(() => undefined);
  if (nc) {
    const jsm = await (await import('@nats-io/jetstream')).jetstreamManager(nc);
    await jsm.streams.delete(streamNameFor(prefix)).catch(() => false);
    await new NatsKvStore({ connection: nc, prefix }).destroyAll().catch(() => {});
    await nc.close();
  }
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}
