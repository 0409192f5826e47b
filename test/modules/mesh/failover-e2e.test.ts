/**
 * End to end on the real NATS: two `capstan agent` processes, a failover workload on one, SIGKILL of its agent;
 * the other takes over with a larger fencing token, the old replica died with its agent, and the token-checking
 * register saw no overlap of active replicas.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { processRunning } from '../../../src/modules/mesh/runtime/replica.ts';
import { eventually } from '../../helpers/async.ts';
import { freePort } from '../../helpers/child-services.ts';
import { NATS_URL, uniqueName } from '../../helpers/env.ts';
import { fixtureWorkload, meshKv, overlaps, putWorkload, slotStatus, startAgent, startRegister, type AgentProcess } from '../../helpers/mesh.ts';

const prefix = uniqueName('mesh');
const { store, b } = await meshKv(NATS_URL, prefix);
const register = startRegister();
const agents: AgentProcess[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  register.stop();
  await store.destroyAll();
  await store.close();
});

describe('mesh failover', () => {
  it('moves a workload to the standby after SIGKILL of its agent, with a larger token and no overlap', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    agents.push(await startAgent({ node: 'n1', site: 'a', labels: `port=${pa}`, natsUrl: NATS_URL, prefix }));
    agents.push(await startAgent({ node: 'n2', site: 'b', labels: `port=${pb}`, natsUrl: NATS_URL, prefix }));
    await putWorkload(b, fixtureWorkload('db', { kind: 'failover', sites: ['a', 'b'] }, register.url));

    const first = await eventually('the replica on n1 is healthy', async () => {
      const s = await slotStatus(b, 'db');
      return s?.state === 'healthy' && s.node === 'n1' ? s : undefined;
    });
    expect(first.pid).toBeGreaterThan(0);
    expect(await (await fetch(`http://127.0.0.1:${pa}/`)).text()).toContain(`ok n1 ${first.token}`);

    await agents[0]!.stop('SIGKILL');
    // The replica was started under setpriv --pdeathsig KILL: it dies with its agent, not a lease later.
    await eventually('the old replica died with its agent', async () => (processRunning(first.pid!) ? undefined : true), 2_000);

    const second = await eventually('n2 holds the slot and its replica is healthy', async () => {
      const s = await slotStatus(b, 'db');
      return s?.state === 'healthy' && s.node === 'n2' ? s : undefined;
    }, 25_000);
    expect(second.token).toBeGreaterThan(first.token);
    expect(await (await fetch(`http://127.0.0.1:${pb}/`)).text()).toContain(`ok n2 ${second.token}`);

    await eventually('the new replica writes to the register', async () => (register.writes.some((w) => w.token === second.token && w.accepted) ? true : undefined));
    expect(register.writes.filter((w) => w.token === first.token).length).toBeGreaterThan(0);
    expect(register.writes.some((w) => !w.accepted)).toBe(false);
    expect(overlaps(register.writes)).toEqual([]);
    // Two agent starts (~3 s idle, 15 s and more at a load average of 30) and one lease-bounded failover.
  }, 120_000);
});
