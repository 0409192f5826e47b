import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { KvLeases } from '../../src/kernel/kv/leases.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { NATS_URL, uniqueName } from '../helpers/env.ts';
import { BUN, REPO_ROOT } from '../helpers/server-process.ts';
import { leasesContract } from './leases-contract.ts';

const prefix = uniqueName('lst');
const natsA = new NatsKvStore({ url: NATS_URL, prefix });
const natsB = new NatsKvStore({ url: NATS_URL, prefix });
afterAll(async () => {
  await natsA.destroyAll();
  await Promise.all([natsA.close(), natsB.close()]);
});

const memory = new MemoryKvStore();
leasesContract('memory', async () => ({
  stores: [memory, memory],
  // In one process a "crash" is a holder that stops renewing and never releases.
  async crashHolder(name, ttlMs) {
    const h = await new KvLeases(memory, 'doomed').acquire(name, { ttlMs, autoRenew: false });
    if (!h) throw new Error('could not acquire');
    return { token: h.token, kill: async () => {} };
  },
}));

leasesContract('nats', async () => ({
  stores: [natsA, natsB],
  // A real process holds the lease and is killed with SIGKILL.
  async crashHolder(name, ttlMs) {
    const child = spawn(BUN, [join(REPO_ROOT, 'test/fixtures/lease-holder.ts'), NATS_URL, prefix, name, String(ttlMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const token = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const held = /HELD (\d+)\n/.exec(out);
        if (held) resolve(Number(held[1]));
        if (out.includes('REFUSED')) reject(new Error('child could not acquire'));
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    return {
      token,
      kill: async () => {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      },
    };
  },
}));
