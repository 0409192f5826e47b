/**
 * The replica watchdog on its own (real processes): it stops a replica at its deadline unless a renewal moved it
 * (SIGTERM at deadline − grace, SIGKILL at the deadline), keeps a replica whose deadline keeps moving, never starts
 * one already past its deadline, and kills every replica when the agent's end of the pipe closes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/kernel/log.ts';
import { processRunning } from '../../../src/modules/mesh/runtime/replica.ts';
import { WatchdogClient } from '../../../src/modules/mesh/runtime/watchdog/client.ts';
import { eventually } from '../../helpers/async.ts';
import { rejection } from '../../helpers/async.ts';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const clients: WatchdogClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});
function client(): WatchdogClient {
  const c = new WatchdogClient(createLogger({ level: 'silent' }));
  clients.push(c);
  return c;
}

describe('replica watchdog', () => {
  it('stops a replica whose deadline passed (SIGTERM first) and reports when it saw it end', async () => {
    const w = client();
    const deadlineAt = Date.now() + 2_000;
    const p = await w.spawn({ argv: ['sleep', '60'], env, deadlineAt, graceMs: 300 });
    expect(processRunning(p.pid)).toBe(true);
    const end = await p.exited;
    expect(end.signal).toBe('SIGTERM');
    expect(end.deadline).toBe(true);
    // Not before deadline − grace (the watchdog's own clock; both read one machine's clock).
    expect(end.at).toBeGreaterThanOrEqual(deadlineAt - 300);
    expect(processRunning(p.pid)).toBe(false);
  });

  it('SIGKILLs at the deadline a replica that ignores SIGTERM', async () => {
    const w = client();
    // SIGTERM comes 1 s after the start, long after the shell set its trap.
    const deadlineAt = Date.now() + 2_000;
    const p = await w.spawn({ argv: ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done'], env, deadlineAt, graceMs: 1_000 });
    const end = await p.exited;
    expect(end.signal).toBe('SIGKILL');
    expect(end.at).toBeGreaterThanOrEqual(deadlineAt);
  });

  it('keeps a replica whose deadline keeps moving, and one without a deadline', async () => {
    const w = client();
    const free = await w.spawn({ argv: ['sleep', '60'], env, deadlineAt: null, graceMs: 100 });
    const moved = await w.spawn({ argv: ['sleep', '60'], env, deadlineAt: Date.now() + 1_500, graceMs: 100 });
    let ended = false;
    void moved.exited.then(() => (ended = true));
    // Moved every 100 ms by 1.5 s, for 3 s: twice the first deadline.
    for (let i = 0; i < 30; i++) {
      moved.setDeadline(Date.now() + 1_500);
      await Bun.sleep(100);
    }
    expect(ended).toBe(false);
    expect(processRunning(moved.pid)).toBe(true);
    expect(processRunning(free.pid)).toBe(true);
    moved.signal('SIGKILL');
    // Stopped by the agent, not for a deadline: the agent applies its restart policy then.
    expect(await moved.exited).toMatchObject({ signal: 'SIGKILL', deadline: false });
  });

  it('refuses to start a replica already past its deadline', async () => {
    const w = client();
    const err = await rejection(w.spawn({ argv: ['sleep', '60'], env, deadlineAt: Date.now() - 1, graceMs: 100 }));
    expect(String(err)).toContain('deadline passed');
  });

  it('kills every replica when the agent closes its end (as when a lost pdeathsig left it behind)', async () => {
    const w = client();
    const ps = await Promise.all([0, 1].map(() => w.spawn({ argv: ['sleep', '60'], env, deadlineAt: null, graceMs: 100 })));
    await w.close();
    for (const p of ps) await eventually(`replica ${p.pid} is gone`, async () => (processRunning(p.pid) ? undefined : true), 5_000);
  });
});
