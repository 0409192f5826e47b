import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { NATS_URL, uniqueName } from '../helpers/env.ts';
import { BUN, REPO_ROOT } from '../helpers/server-process.ts';
import { membershipContract } from './membership-contract.ts';

const prefix = uniqueName('mbr');
const nats = [0, 1, 2].map(() => new NatsKvStore({ url: NATS_URL, prefix })) as [NatsKvStore, NatsKvStore, NatsKvStore];
afterAll(async () => {
  await nats[0].destroyAll();
  await Promise.all(nats.map((s) => s.close()));
});

const memory = new MemoryKvStore();
membershipContract('memory', async () => ({ stores: [memory, memory, memory] }));

membershipContract('nats', async () => ({
  stores: nats,
  async crashMember(group, id, heartbeatMs, timeoutMs) {
    const child = spawn(BUN, [join(REPO_ROOT, 'test/fixtures/role-member.ts'), 'member', NATS_URL, prefix, group, id, String(heartbeatMs), String(timeoutMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('READY')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`member process exited ${code}`)));
    });
    return {
      async kill() {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      },
    };
  },
}));
