/**
 * `capstan agent` retries its join (connection, buckets, first beat) with a bounded backoff instead of exiting at the
 * first timeout: it joins once NATS comes up, and exits non-zero, saying so, only after `--join-give-up-ms`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { joinBackoffMs } from '../../../src/modules/mesh/runtime/join.ts';
import { eventually } from '../../helpers/async.ts';
import { childNats, freePort } from '../../helpers/child-services.ts';
import { uniqueName } from '../../helpers/env.ts';
import { spawnAgent, type SpawnedAgent } from '../../helpers/mesh.ts';
import { startTcpProxy } from '../../helpers/tcp-proxy.ts';

const dir = mkdtempSync(join(tmpdir(), 'mesh-join-'));
const agents: SpawnedAgent[] = [];
const stops: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const a of agents) await a.stop('SIGKILL');
  for (const s of stops) await s();
  rmSync(dir, { recursive: true, force: true });
});

const retries = (a: SpawnedAgent) => a.output().split('\n').filter((l) => l.includes('could not join; retrying')).length;

describe('capstan agent join retry', () => {
  it('backs off 250 ms, doubling, capped at 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 30].map((n) => joinBackoffMs(n))).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('keeps retrying while NATS is down and joins once it is up', async () => {
    const nats = await childNats(join(dir, 'js'));
    stops.push(() => nats.kill());
    const a = spawnAgent({ node: 'r1', site: 'a', natsUrl: nats.url, prefix: uniqueName('mjoin') });
    agents.push(a);
    await eventually('two logged retries', async () => (retries(a) >= 2 ? true : undefined), 60_000);
    expect(a.child.exitCode).toBeNull();
    await nats.start();
    await a.joined;
    // The log is written asynchronously: the line may follow the join message by a moment.
    await eventually('the join logged as retried', async () => (a.output().includes('joined after retrying') ? true : undefined));
    expect(await a.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('exits non-zero after the give-up, naming it', async () => {
    const port = await freePort();
    const a = spawnAgent({ node: 'r2', site: 'a', natsUrl: `nats://127.0.0.1:${port}`, prefix: uniqueName('mjoin'), extra: ['--join-give-up-ms', '1500'] });
    agents.push(a);
    const code = await a.exited;
    expect(code).not.toBe(0);
    expect(retries(a)).toBeGreaterThanOrEqual(2);
    expect(a.output()).toContain('gave up joining');
    expect(a.output()).not.toContain('r2 joined');
  }, 120_000);
});

describe('capstan agent join attempt bound', () => {
  it('abandons an attempt that gets no answer (black-holed connection) and joins after the heal', async () => {
    const nats = await childNats(join(dir, 'js2'));
    await nats.start();
    stops.push(() => nats.kill());
    const proxy = await startTcpProxy(nats.port);
    stops.push(() => proxy.close());
    proxy.cut();
    const a = spawnAgent({ node: 'r3', site: 'a', natsUrl: `nats://127.0.0.1:${proxy.port}`, prefix: uniqueName('mjoin'), extra: ['--join-attempt-timeout-ms', '1500'] });
    agents.push(a);
    await eventually('an attempt timed out', async () => (a.output().includes('join attempt timed out after 1500 ms') ? true : undefined), 60_000);
    proxy.heal();
    await a.joined;
    expect(await a.stop('SIGTERM')).toBe(0);
  }, 120_000);
});
