import { afterAll } from 'vitest';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { NATS_URL, uniqueName } from '../helpers/env.ts';
import { rolesContract } from './roles-contract.ts';

const prefix = uniqueName('rol');
const nats = [0, 1, 2].map(() => new NatsKvStore({ url: NATS_URL, prefix })) as [NatsKvStore, NatsKvStore, NatsKvStore];
afterAll(async () => {
  await nats[0].destroyAll();
  await Promise.all(nats.map((s) => s.close()));
});

const memory = new MemoryKvStore();
rolesContract('memory', async () => [memory, memory, memory]);
rolesContract('nats', async () => nats);
