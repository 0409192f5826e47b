/** BullmqQueue across a Redis restart: no crash, Unavailable while down, workers resume after. Uses a private redis-server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Unavailable } from '../../src/kernel/errors.ts';
import { BullmqQueue } from '../../src/kernel/queue/bullmq-queue.ts';
import { uniqueName } from '../helpers/env.ts';
import { eventually } from './queue-helpers.ts';

let port = 0;
let server: ChildProcess | undefined;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

function running(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  server = child;
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
}

async function killRedis(): Promise<void> {
  const child = server;
  if (!running(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
});
afterAll(killRedis);

it('survives a Redis restart: Unavailable while down, jobs run again once it is back', async () => {
  const queue = new BullmqQueue({ url: `redis://127.0.0.1:${port}`, prefix: uniqueName('capq'), pingTimeoutMs: 500, stalledIntervalMs: 1_000 });
  try {
    const ran: string[] = [];
    await queue.work('restart', async (job) => void ran.push(job.name));
    const before = await queue.add('restart', 'before', {});
    await eventually('first job', async () => (await queue.getJob('restart', before.id))?.state === 'completed');

    await killRedis();
    await expect(queue.ping()).rejects.toBeInstanceOf(Unavailable);
    await expect(queue.add('restart', 'during', {})).rejects.toBeInstanceOf(Unavailable);

    await startRedis(); // empty again: --save "" keeps nothing
    await eventually('ping after restart', () => queue.ping().then(() => true, () => false), 20_000);
    const after = await queue.add('restart', 'after', {});
    await eventually('job after restart', async () => (await queue.getJob('restart', after.id))?.state === 'completed', 20_000);
    expect(ran).toEqual(['before', 'after']);
  } finally {
    await queue.close();
  }
});

it('closes within its bounds while Redis is down, even with a job in flight', async () => {
  if (!running(server)) await startRedis();
  const queue = new BullmqQueue({ url: `redis://127.0.0.1:${port}`, prefix: uniqueName('capq'), pingTimeoutMs: 500, closeTimeoutMs: 500 });
  let started = false;
  await queue.work('down', async (job) => {
    started = true;
    await new Promise((r) => job.signal.addEventListener('abort', r));
    return 'aborted';
  });
  await queue.add('down', 'inflight', {});
  await eventually('job to start', () => started);
  await killRedis();
  await queue.close(); // the test timeout is the bound: close must not wait for Redis to return
  await expect(queue.ping()).rejects.toBeInstanceOf(Unavailable);
});
