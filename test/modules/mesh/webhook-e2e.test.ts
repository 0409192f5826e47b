/**
 * A webhook workload end to end on the real NATS (a system the agent does not own, driven by start and stop URLs):
 * the holder POSTs `{slot, token, node}` to the start URL; after SIGKILL of its agent the standby POSTs start with a
 * larger token; stopping the workload POSTs the stop URL with the holder's token.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkloadRecord } from '../../../src/modules/mesh/model/workload.ts';
import { eventually } from '../../helpers/async.ts';
import { NATS_URL, uniqueName } from '../../helpers/env.ts';
import { meshKv, putWorkload, slotStatus, startAgent, type AgentProcess } from '../../helpers/mesh.ts';

interface Call {
  path: string;
  body: { slot: number; token: number; node: string };
}

const prefix = uniqueName('mhook');
const { store, b } = await meshKv(NATS_URL, prefix);
const calls: Call[] = [];
const hooks = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(req) {
    calls.push({ path: new URL(req.url).pathname, body: (await req.json()) as Call['body'] });
    return Response.json({ ok: true });
  },
});
const agents: AgentProcess[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  hooks.stop(true);
  await store.destroyAll();
  await store.close();
});

describe('mesh webhook workload', () => {
  it('calls start on the holder, start again on the standby after a failover, and stop on stop', async () => {
    agents.push(await startAgent({ node: 'n1', site: 'a', natsUrl: NATS_URL, prefix }));
    agents.push(await startAgent({ node: 'n2', site: 'b', natsUrl: NATS_URL, prefix }));
    const base = `http://127.0.0.1:${hooks.port}`;
    await putWorkload(b, { name: 'ext', run: { kind: 'webhook', startUrl: `${base}/start/{node}`, stopUrl: `${base}/stop/{node}` }, topology: { kind: 'failover', sites: ['a', 'b'] } });

    const first = await eventually('n1 holds the slot', async () => {
      const s = await slotStatus(b, 'ext');
      return s?.state === 'healthy' && s.node === 'n1' ? s : undefined;
    }, 60_000);
    expect(calls).toEqual([{ path: '/start/n1', body: { slot: 0, token: first.token, node: 'n1' } }]);

    await agents[0]!.stop('SIGKILL');
    const second = await eventually('n2 takes the slot', async () => {
      const s = await slotStatus(b, 'ext');
      return s?.state === 'healthy' && s.node === 'n2' ? s : undefined;
    }, 30_000);
    expect(second.token).toBeGreaterThan(first.token);
    // A killed agent calls nothing: the system behind the URLs sees the larger token and fences the old one itself.
    expect(calls.at(-1)).toEqual({ path: '/start/n2', body: { slot: 0, token: second.token, node: 'n2' } });

    const rec = (await b.workloads.get<WorkloadRecord>('ext'))!;
    await b.workloads.put('ext', { ...rec.value, desired: 'stopped' });
    await eventually('n2 calls the stop URL', async () => calls.find((c) => c.path === '/stop/n2'), 20_000);
    expect(calls.map((c) => `${c.path} ${c.body.token}`)).toEqual([`/start/n1 ${first.token}`, `/start/n2 ${second.token}`, `/stop/n2 ${second.token}`]);
  }, 180_000);
});
