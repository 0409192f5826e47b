/**
 * A paused holder cannot stop its replica itself: the replica watchdog does. Two `capstan agent` processes on the
 * real NATS, a failover `absolute-consistency` workload on n1, then SIGSTOP of n1's agent (not of its watchdog). The
 * replica must be gone — logged with the watchdog's clock while the agent is still stopped — before n2's replica
 * starts, the history checker finds no overlap, and after SIGCONT n1 does not start it again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processRunning } from '../../../src/modules/mesh/runtime/replica.ts';
import { eventually } from '../../helpers/async.ts';
import { freePort } from '../../helpers/child-services.ts';
import { NATS_URL, uniqueName } from '../../helpers/env.ts';
import { fixtureWorkload, meshKv, putWorkload, slotStatus, startAgent, startRegister, type AgentProcess } from '../../helpers/mesh.ts';
import { activeIntervals, describeOverlap, overlappingIntervals, readHistory, staleAccepted } from '../../helpers/mesh-history.ts';

const dir = mkdtempSync(join(tmpdir(), 'mesh-pause-'));
const prefix = uniqueName('mpause');
const { store, b } = await meshKv(NATS_URL, prefix);
const register = startRegister();
const agents: AgentProcess[] = [];
const history = (n: string) => join(dir, `${n}.jsonl`);
afterAll(async () => {
  for (const a of agents) {
    a.child.kill('SIGCONT');
    await a.stop('SIGKILL');
  }
  register.stop();
  await store.destroyAll();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('mesh: a paused holder agent', () => {
  it('has its replica stopped by the watchdog before the standby takes over', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    agents.push(await startAgent({ node: 'n1', site: 'a', labels: `port=${pa}`, natsUrl: NATS_URL, prefix, extra: ['--history', history('n1')] }));
    agents.push(await startAgent({ node: 'n2', site: 'b', labels: `port=${pb}`, natsUrl: NATS_URL, prefix, extra: ['--history', history('n2')] }));
    await putWorkload(b, fixtureWorkload('db', { kind: 'failover', sites: ['a', 'b'] }, register.url));
    const first = await eventually('the replica on n1 is healthy', async () => {
      const s = await slotStatus(b, 'db');
      return s?.state === 'healthy' && s.node === 'n1' ? s : undefined;
    }, 60_000);

    const pausedAt = Date.now();
    agents[0]!.child.kill('SIGSTOP');
    // Nobody but the watchdog can stop it now: the agent is stopped, and pdeathsig fires on death only.
    await eventually('the paused agent\'s replica is stopped', async () => (processRunning(first.pid!) ? undefined : true), 20_000);
    const second = await eventually('n2 holds the slot and its replica is healthy', async () => {
      const s = await slotStatus(b, 'db');
      return s?.state === 'healthy' && s.node === 'n2' ? s : undefined;
    }, 30_000);
    expect(second.token).toBeGreaterThan(first.token);
    const resumedAt = Date.now();
    agents[0]!.child.kill('SIGCONT');

    // n1 logs the stop with the time its watchdog saw the exit, which lies inside the pause.
    const stop = await eventually('n1 logged the stop', async () => readHistory([history('n1')]).find((e) => e.ev === 'stop' && e.pid === first.pid));
    expect(stop.t).toBeGreaterThan(pausedAt);
    expect(stop.t).toBeLessThan(resumedAt);
    const start = readHistory([history('n2')]).find((e) => e.ev === 'start' && e.token === second.token)!;
    expect(stop.t).toBeLessThan(start.t);

    // Resumed, n1 learns it lost the slot and does not start its replica again.
    await eventually('the register sees n2\'s writes', async () => (register.writes.some((w) => w.token === second.token && w.accepted) ? true : undefined));
    await eventually('n1 knows it lost the lease', async () => ((await (await fetch(`${agentEndpoint(agents[0]!)}/healthz`)).json()) as { held: unknown[] }).held.length === 0 ? true : undefined);
    const intervals = activeIntervals(readHistory([history('n1'), history('n2')]), new Map());
    expect(intervals.filter((i) => i.node === 'n1').map((i) => i.pid)).toEqual([first.pid]);
    expect(overlappingIntervals(intervals).map(describeOverlap)).toEqual([]);
    expect(staleAccepted(register.writes)).toEqual([]);
  }, 180_000);
});

/** The agent's local endpoint, from the line it printed on start. */
function agentEndpoint(a: AgentProcess): string {
  const m = /endpoint (http:\/\/127\.0\.0\.1:\d+)\/tokens/.exec(a.output());
  if (!m) throw new Error(`no endpoint in the output of ${a.node}`);
  return m[1]!;
}
