/**
 * Redis Sentinel: a private Redis primary, its replica and one sentinel run as child processes on loopback ports. The
 * BullMQ queue is given an unreachable host in its URL and the sentinel's address: it finds the primary through the
 * sentinel, and after a sentinel failover it follows the new primary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/kernel/config/load.ts';
import { redactConfig } from '../../src/kernel/config/redact.ts';
import { BullmqQueue } from '../../src/kernel/queue/bullmq-queue.ts';
import { eventually } from '../helpers/async.ts';
import { freePort, waitForPort } from '../helpers/child-services.ts';

const dir = mkdtempSync(join(tmpdir(), 'capstan-sentinel-'));
const children: ChildProcess[] = [];
let primaryPort: number;
let replicaPort: number;
let sentinelPort: number;

async function redisServer(args: string[], port: number): Promise<void> {
  const c = spawn('redis-server', args, { stdio: 'ignore' });
  children.push(c);
  await waitForPort(port);
}

beforeAll(async () => {
  [primaryPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  await redisServer(['--port', String(primaryPort), ...common], primaryPort);
  await redisServer(['--port', String(replicaPort), '--replicaof', '127.0.0.1', String(primaryPort), ...common], replicaPort);
  // The sentinel rewrites its config file as it learns the topology, so it gets a writable file of its own.
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor capstan 127.0.0.1 ${primaryPort} 1`, 'sentinel down-after-milliseconds capstan 1000', 'sentinel failover-timeout capstan 5000', ''].join('\n'));
  await redisServer([conf, '--sentinel'], sentinelPort);
  // The failover needs the sentinel to know the replica, which it learns from the primary's INFO.
  const s = new Redis({ port: sentinelPort, host: '127.0.0.1' });
  await eventually('the sentinel sees the replica', async () => ((await s.call('SENTINEL', 'REPLICAS', 'capstan')) as unknown[]).length > 0 || undefined);
  s.disconnect();
}, 180_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Runs one job through the queue and waits until a worker has run it. */
async function roundTrip(q: BullmqQueue, queue: string, n: number): Promise<void> {
  const seen: number[] = [];
  const worker = await q.work<{ n: number }>(queue, async (job) => {
    seen.push(job.data.n);
  });
  try {
    await q.add(queue, 'ping', { n });
    await eventually(`job ${n} ran`, async () => seen.includes(n) || undefined);
  } finally {
    await worker.close();
  }
}

describe('Redis Sentinel', () => {
  it('the queue finds the primary through the sentinel, and follows a failover', async () => {
    const q = new BullmqQueue({ url: 'redis://127.0.0.1:1', sentinel: { masterName: 'capstan', nodes: [`127.0.0.1:${sentinelPort}`] }, prefix: 'sentinel_test' });
    try {
      await roundTrip(q, 'sentinel', 1);
      const primary = new Redis({ port: primaryPort, host: '127.0.0.1' });
      expect((await primary.keys('sentinel_test:sentinel:*')).length).toBeGreaterThan(0);
      primary.disconnect();

      const s = new Redis({ port: sentinelPort, host: '127.0.0.1' });
      await s.call('SENTINEL', 'FAILOVER', 'capstan');
      await eventually('the replica is promoted', async () => ((await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'capstan')) as string[])[1] === String(replicaPort) || undefined, 20_000);
      s.disconnect();
      await roundTrip(q, 'sentinel', 2);
      const promoted = new Redis({ port: replicaPort, host: '127.0.0.1' });
      expect((await promoted.info('replication')).includes('role:master')).toBe(true);
      promoted.disconnect();
    } finally {
      await q.close();
    }
  }, 60_000);

  it('config: redis.sentinel from the environment, checked, with the password redacted', () => {
    const env = { DATABASE_URL: 'postgres://p@127.0.0.1/db', REDIS_URL: 'redis://:pw@127.0.0.1/2', NATS_URL: 'nats://127.0.0.1', CAPSTAN_AUTH__TOKENS: `[{name: t, sha256: ${'a'.repeat(64)}, scopes: [admin]}]` };
    const cfg = loadConfig([], { env: { ...env, CAPSTAN_REDIS__SENTINEL__MASTER_NAME: 'capstan', CAPSTAN_REDIS__SENTINEL__NODES: '[s1:26379, "[::1]:26380"]', CAPSTAN_REDIS__SENTINEL__PASSWORD: 'spw' } });
    expect(cfg.redis.sentinel).toEqual({ masterName: 'capstan', nodes: ['s1:26379', '[::1]:26380'], password: 'spw' });
    expect(JSON.stringify(redactConfig(cfg))).not.toContain('spw');
    const failure = (e: Record<string, string>) => {
      try {
        loadConfig([], { env: e });
      } catch (err) {
        return (err as ConfigError).issues;
      }
      return [];
    };
    expect(failure({ ...env, CAPSTAN_REDIS__SENTINEL__MASTER_NAME: 'capstan', CAPSTAN_REDIS__SENTINEL__NODES: '[s1]' })[0]).toMatchObject({ path: 'redis.sentinel.nodes.0', message: expect.stringContaining('host:port') });
    expect(failure({ ...env, CAPSTAN_REDIS__SENTINEL__NODES: '[s1:26379]' })[0]!.path).toBe('redis.sentinel.masterName');
  });
});
