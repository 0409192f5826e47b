/**
 * The replica watchdog, in the style of Patroni's: a small process between `capstan agent` and the replicas it runs,
 * which stops a replica by itself when the agent has not moved its deadline in time. The agent moves a replica's
 * deadline (last successful renewal + renew deadline) after every renewal; an agent that is SIGSTOPped, swapped out
 * or wedged stops moving it, and the watchdog sends SIGTERM at deadline − grace and SIGKILL at the deadline, exactly
 * as the agent itself would have. Without it, a paused agent's replica kept running after another node took the slot.
 *
 * It also closes the gaps of `setpriv --pdeathsig`: the watchdog runs under pdeathsig KILL and starts every replica
 * under it too, so SIGKILL of the agent takes both down; and if a parent-death signal is lost (it is reset across a
 * set-user-ID exec, and is bound to the thread that forked), the agent's end of the pipe still closes when it dies and
 * the watchdog then kills every replica at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lineReader, parseLine, type WatchdogCommand, type WatchdogReport } from './protocol.ts';

interface Watched {
  child: ChildProcess;
  pid: number;
  graceMs: number;
  /** Bumped by every new deadline, so a signal decided under an older one is dropped. */
  epoch: number;
  /** Signalled for a missed deadline. */
  fired: boolean;
  term?: ReturnType<typeof setTimeout>;
  kill?: ReturnType<typeof setTimeout>;
}

/** Runs the watchdog on the given streams until the agent's end closes and every replica is gone. */
export function runWatchdog(io: { input: NodeJS.ReadableStream; send(report: WatchdogReport): void; exit(code: number): void }): void {
  const watched = new Map<string, Watched>();
  let closing = false;

  const clear = (w: Watched) => {
    clearTimeout(w.term);
    clearTimeout(w.kill);
  };

  /** Converts a wall-clock deadline to timers on this process's monotonic clock, now, while the two agree. */
  const arm = (id: string, w: Watched, at: number | null) => {
    clear(w);
    const epoch = ++w.epoch;
    if (at === null) return;
    const inMs = at - Date.now();
    // A timer that fires after this process was starved runs before the input that waited meanwhile (timers come
    // first in an event-loop turn): one more hop lets a renewal already in the pipe move the deadline first. Acting
    // on the stale deadline would only stop a replica early (safe), but needlessly.
    const fire = (signal: 'SIGTERM' | 'SIGKILL') => () =>
      setImmediate(() => {
        if (w.epoch !== epoch || w.child.exitCode !== null || w.child.signalCode !== null) return;
        w.fired = true;
        w.child.kill(signal);
        io.send({ ev: 'deadline', id, pid: w.pid, signal, at: Date.now() });
      });
    w.term = setTimeout(fire('SIGTERM'), Math.max(0, inMs - w.graceMs));
    w.kill = setTimeout(fire('SIGKILL'), Math.max(0, inMs));
  };

  const handle = (c: WatchdogCommand) => {
    if (c.op === 'spawn') {
      if (closing || watched.has(c.id)) return io.send({ ev: 'spawn-failed', id: c.id, error: closing ? 'watchdog closing' : 'id in use' });
      // Past its deadline before it started (the agent was slow): never start it.
      if (c.deadlineAt !== null && c.deadlineAt <= Date.now()) return io.send({ ev: 'spawn-failed', id: c.id, error: 'deadline passed before the start' });
      // setpriv execs the workload in place, so the workload itself carries the parent-death signal (this process).
      const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...c.argv], { cwd: c.cwd, env: c.env, stdio: ['ignore', 'inherit', 'inherit'] });
      child.once('error', (err) => {
        if (!watched.has(c.id)) io.send({ ev: 'spawn-failed', id: c.id, error: err.message });
      });
      child.once('spawn', () => {
        const w: Watched = { child, pid: child.pid!, graceMs: c.graceMs, epoch: 0, fired: false };
        watched.set(c.id, w);
        arm(c.id, w, c.deadlineAt);
        io.send({ ev: 'spawned', id: c.id, pid: w.pid, at: Date.now() });
        child.once('exit', (code, signal) => {
          clear(w);
          watched.delete(c.id);
          io.send({ ev: 'exit', id: c.id, pid: w.pid, code, signal, at: Date.now(), deadline: w.fired });
          if (closing && watched.size === 0) io.exit(0);
        });
      });
    } else if (c.op === 'deadline') {
      const w = watched.get(c.id);
      if (w) arm(c.id, w, c.at);
    } else if (c.op === 'signal') {
      watched.get(c.id)?.child.kill(c.signal);
    }
  };

  io.input.on('data', lineReader((line) => {
    const c = parseLine<WatchdogCommand>(line);
    if (c) handle(c);
  }));
  // The agent is gone (or closed us after stopping its replicas): nothing may outlive it.
  io.input.on('end', () => {
    closing = true;
    if (watched.size === 0) return io.exit(0);
    for (const w of watched.values()) w.child.kill('SIGKILL');
  });
}
