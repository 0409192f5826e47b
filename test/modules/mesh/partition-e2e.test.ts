/**
 * Partitions on the real NATS: agent n1 reaches NATS only through a TCP proxy the test black-holes. Under
 * absolute-consistency n1's replica is dead before n2 takes the slot; after the heal n1 learns it lost, and when n2
 * dies later n1 wins the slot again and must run its replica (a stale "deadline passed" flag from the old tenure
 * once made it stop every replica it started under the new lease). And a holder partitioned longer than its renew
 * deadline, whose lease nobody else may take, must start its replica again once a renewal succeeds after the heal.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { processRunning } from '../../../src/modules/mesh/runtime/replica.ts';
import { eventually } from '../../helpers/async.ts';
import { freePort } from '../../helpers/child-services.ts';
import { NATS_URL, uniqueName } from '../../helpers/env.ts';
import { type AgentProcess, fixtureWorkload, meshKv, meshPartitionFixture, overlaps, putWorkload, slotStatus, startAgent } from '../../helpers/mesh.ts';

const fixture = await meshPartitionFixture('mesh');
const { prefix, b, register, proxy, agents } = fixture;
afterAll(() => fixture.close());

async function heldBy(port: number): Promise<{ workload: string; token: number }[]> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return ((await res.json()) as { held: { workload: string; token: number }[] }).held;
}

describe('mesh partition', () => {
  it('restarts the replica of a holder whose renewal succeeds again after a partition longer than its deadline', async () => {
    const prefix2 = uniqueName('mesh');
    const kv = await meshKv(NATS_URL, prefix2);
    const local: AgentProcess[] = [];
    try {
      const [pa, ea] = [await freePort(), await freePort()];
      // n2 (direct, site b) joins first and leads; it is no candidate for a site-a workload, so the slot stays n1's.
      local.push(await startAgent({ node: 'n2', site: 'b', natsUrl: NATS_URL, prefix: prefix2 }));
      await eventually('n2 leads', async () => ((await kv.b.leases.get<{ holder: string }>('leader'))?.value.holder === 'n2' ? true : undefined));
      local.push(await startAgent({ node: 'n1', site: 'a', labels: `port=${pa}`, natsUrl: `nats://127.0.0.1:${proxy.port}`, prefix: prefix2, extra: ['--port', String(ea)] }));
      await putWorkload(kv.b, fixtureWorkload('solo', { kind: 'failover', sites: ['a'] }));
      const first = await eventually('the replica on n1 is healthy', async () => {
        const s = await slotStatus(kv.b, 'solo');
        return s?.state === 'healthy' && s.node === 'n1' ? s : undefined;
      });

      proxy.cut();
      await eventually('the partitioned replica is stopped by the renew deadline', async () => (processRunning(first.pid!) ? undefined : true), 10_000);
      proxy.heal();

      const again = await eventually('n1 renews under the same token and runs a new replica', async () => {
        const s = await slotStatus(kv.b, 'solo');
        return s?.state === 'healthy' && s.node === 'n1' && s.pid !== first.pid ? s : undefined;
      }, 20_000);
      expect(again.token).toBe(first.token);
      expect(processRunning(again.pid!)).toBe(true);
      expect(await (await fetch(`http://127.0.0.1:${pa}/`)).text()).toContain(`ok n1 ${first.token}`);
      expect(await heldBy(ea)).toEqual([expect.objectContaining({ workload: 'solo', token: first.token })]);
    } finally {
      await Promise.all(local.map((a) => a.stop('SIGKILL')));
      proxy.heal();
      await kv.store.destroyAll();
      await kv.store.close();
    }
  }, 90_000);

  it('fences the partitioned holder, and runs the replica again when it later wins the slot back', async () => {
    const [pa, pb, ea] = [await freePort(), await freePort(), await freePort()];
    agents.push(await startAgent({ node: 'n1', site: 'a', labels: `port=${pa}`, natsUrl: `nats://127.0.0.1:${proxy.port}`, prefix, extra: ['--port', String(ea)] }));
    agents.push(await startAgent({ node: 'n2', site: 'b', labels: `port=${pb}`, natsUrl: NATS_URL, prefix }));
    await putWorkload(b, fixtureWorkload('db', { kind: 'failover', sites: ['a', 'b'] }, register.url));
    const first = await eventually('the replica on n1 is healthy', async () => {
      const s = await slotStatus(b, 'db');
      return s?.state === 'healthy' && s.node === 'n1' ? s : undefined;
    });

    proxy.cut();
    // n1 cannot renew: its replica is killed by its renew deadline, n2 takes the slot a full lease after the last renewal.
    await eventually('the partitioned replica is stopped', async () => (processRunning(first.pid!) ? undefined : true), 10_000);
    const second = await eventually('n2 holds the slot with a healthy replica', async () => {
      const s = await slotStatus(b, 'db');
      return s?.state === 'healthy' && s.node === 'n2' ? s : undefined;
    }, 30_000);
    expect(second.token).toBeGreaterThan(first.token);

    proxy.heal();
    await eventually('n1 learns after the heal that it lost the slot', async () => ((await heldBy(ea)).length === 0 ? true : undefined), 20_000);

    await agents[1]!.stop('SIGKILL');
    const third = await eventually('n1 wins the slot back and its replica is healthy', async () => {
      const s = await slotStatus(b, 'db');
      return s?.state === 'healthy' && s.node === 'n1' && s.token > second.token ? s : undefined;
    }, 30_000);
    expect(await (await fetch(`http://127.0.0.1:${pa}/`)).text()).toContain(`ok n1 ${third.token}`);
    expect(processRunning(third.pid!)).toBe(true);
    expect(await heldBy(ea)).toEqual([expect.objectContaining({ workload: 'db', token: third.token })]);

    await eventually('the third replica writes to the register', async () => (register.writes.some((w) => w.token === third.token && w.accepted) ? true : undefined));
    expect([first.token, second.token, third.token].every((t) => register.writes.some((w) => w.token === t))).toBe(true);
    expect(register.writes.filter((w) => !w.accepted)).toEqual([]);
    expect(overlaps(register.writes)).toEqual([]);
  }, 120_000);
});
