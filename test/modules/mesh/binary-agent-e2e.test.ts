/**
 * The mesh agent from the compiled binary (dist/capstan, built by the test command before vitest runs): its replica
 * watchdog is the binary's hidden `agent-watchdog` command (the source path does not exist inside the binary's
 * embedded file system), the replica runs under it, and a SIGKILLed agent takes its replica with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processRunning } from '../../../src/modules/mesh/runtime/replica.ts';
import { eventually } from '../../helpers/async.ts';
import { freePort } from '../../helpers/child-services.ts';
import { NATS_URL, uniqueName } from '../../helpers/env.ts';
import { fixtureWorkload, meshKv, putWorkload, slotStatus, startAgent, type AgentProcess } from '../../helpers/mesh.ts';
import { REPO_ROOT } from '../../helpers/server-process.ts';

const BINARY = join(REPO_ROOT, 'dist/capstan');
const prefix = uniqueName('meshbin');
const { store, b } = await meshKv(NATS_URL, prefix);
const agents: AgentProcess[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await store.destroyAll();
  await store.close();
});

/** The command line of a process's parent, read from /proc. */
function parentCommand(pid: number): string[] {
  // Field 4 of /proc/PID/stat is the parent pid; the command name (field 2) may hold spaces, so split after its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

describe('mesh agent from the compiled binary', () => {
  it('runs its replica under the binary’s agent-watchdog, which kills the replica when the agent is SIGKILLed', async () => {
    expect(existsSync(BINARY), 'dist/capstan is missing: run `bun run build`').toBe(true);
    const port = await freePort();
    agents.push(await startAgent({ node: 'n1', site: 'a', labels: `port=${port}`, natsUrl: NATS_URL, prefix, binary: BINARY }));
    await putWorkload(b, fixtureWorkload('bin', { kind: 'failover', sites: ['a'] }));
    const s = await eventually('the replica on n1 is healthy', async () => {
      const x = await slotStatus(b, 'bin');
      return x?.state === 'healthy' && x.node === 'n1' ? x : undefined;
    }, 60_000);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain(`ok n1 ${s.token}`);
    expect(parentCommand(s.pid!)).toEqual([BINARY, 'agent-watchdog']);

    await agents[0]!.stop('SIGKILL');
    await eventually('the replica died with its agent', async () => (processRunning(s.pid!) ? undefined : true), 5_000);
  }, 120_000);
});
