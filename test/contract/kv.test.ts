import { afterAll } from 'vitest';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { NATS_URL, uniqueName } from '../helpers/env.ts';
import { kvContract } from './kv-contract.ts';

const prefix = uniqueName('kvt');
const nats = new NatsKvStore({ url: NATS_URL, prefix });
afterAll(async () => {
  await nats.destroyAll();
  await nats.close();
});

kvContract('memory', async () => new MemoryKvStore());
kvContract('nats', async () => nats);
