/**
 * The agent's side of the replica watchdog (supervisor.ts): starts the watchdog process once (so a failover does not
 * pay for a process start twice), starts replicas through it, moves their deadlines after renewals, and learns of
 * their exits from it (it is their parent).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../../../kernel/index.ts';
import { lineReader, parseLine, type WatchdogCommand, type WatchdogReport } from './protocol.ts';

/** How a watched replica ended. */
export interface WatchedExit {
  code: number | null;
  signal: string | null;
  /** Wall clock when the watchdog saw it end (not when the agent learnt of it). */
  at: number;
  /** The watchdog had stopped it for a missed deadline (not the agent, not the replica itself). */
  deadline: boolean;
}

/** A replica process running under the watchdog. */
export interface WatchedProcess {
  readonly pid: number;
  /** Wall clock when the watchdog started it. */
  readonly startedAt: number;
  readonly exited: Promise<WatchedExit>;
  /** Moves the deadline by which the watchdog stops it by itself (wall-clock ms; null: no deadline). */
  setDeadline(at: number | null): void;
  signal(signal: 'SIGTERM' | 'SIGKILL'): void;
}

/** argv that starts the watchdog: its own small entry from a source checkout, the hidden command from a compiled binary. */
export function watchdogArgv(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  // Files of a `bun build --compile` binary live in its embedded file system, not on disk.
  if (here.startsWith('/$bunfs')) return [process.execPath, 'agent-watchdog'];
  return [process.execPath, join(here, 'main.ts')];
}

interface Pending {
  resolve(p: WatchedProcess): void;
  reject(err: Error): void;
  exit(e: WatchedExit): void;
  exited: Promise<WatchedExit>;
}

/** One watchdog process for one agent. */
export class WatchdogClient {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private seq = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly live = new Map<string, Pending>();

  constructor(private readonly log: Logger) {}

  /** Starts the watchdog process (again, if it died). */
  start(): Promise<void> {
    if (this.ready && this.child && this.child.exitCode === null && this.child.signalCode === null) return this.ready;
    const [cmd, ...args] = watchdogArgv();
    // Under pdeathsig KILL: SIGKILL of the agent takes the watchdog down, and the watchdog's replicas with it.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd!, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    this.ready = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.stdout!.on('data', lineReader((line) => {
        const r = parseLine<WatchdogReport>(line);
        if (r?.ev === 'ready') resolve();
        else if (r) this.onReport(r);
      }));
      child.once('exit', (code, signal) => {
        reject(new Error(`replica watchdog exited (${code ?? signal}) before it was ready`));
        this.onWatchdogExit(child, code, signal);
      });
    });
    return this.ready;
  }

  /** Starts a replica under the watchdog; resolves once it runs. */
  async spawn(o: { argv: string[]; env: Record<string, string>; cwd?: string; deadlineAt: number | null; graceMs: number }): Promise<WatchedProcess> {
    await this.start();
    const id = `r${++this.seq}`;
    let exit!: (e: WatchedExit) => void;
    const exited = new Promise<WatchedExit>((r) => (exit = r));
    return new Promise<WatchedProcess>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, exit, exited });
      this.send({ op: 'spawn', id, ...o });
    });
  }

  /** Closes the pipe: the watchdog kills whatever still runs and exits. Call after the replicas were stopped. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.stdin!.end();
    await gone;
  }

  private send(c: WatchdogCommand): void {
    this.child?.stdin?.write(`${JSON.stringify(c)}\n`);
  }

  private onReport(r: Exclude<WatchdogReport, { ev: 'ready' }>): void {
    if (r.ev === 'spawned') {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      this.live.set(r.id, p);
      p.resolve({
        pid: r.pid,
        startedAt: r.at,
        exited: p.exited,
        setDeadline: (at) => this.send({ op: 'deadline', id: r.id, at }),
        signal: (signal) => this.send({ op: 'signal', id: r.id, signal }),
      });
    } else if (r.ev === 'spawn-failed') {
      this.pending.get(r.id)?.reject(new Error(`replica did not start: ${r.error}`));
      this.pending.delete(r.id);
    } else if (r.ev === 'deadline') {
      this.log.warn({ pid: r.pid, signal: r.signal }, 'replica watchdog stopped a replica: its renew deadline passed without a renewal');
    } else if (r.ev === 'exit') {
      this.live.get(r.id)?.exit({ code: r.code, signal: r.signal, at: r.at, deadline: r.deadline });
      this.live.delete(r.id);
    }
  }

  /** The watchdog died: its replicas died with it (pdeathsig), so each is reported as ended now. */
  private onWatchdogExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child !== child) return;
    if (code !== 0) this.log.error({ code, signal }, 'replica watchdog died; its replicas died with it');
    for (const p of this.pending.values()) p.reject(new Error('replica watchdog died'));
    for (const p of this.live.values()) p.exit({ code: null, signal: 'SIGKILL', at: Date.now(), deadline: false });
    this.pending.clear();
    this.live.clear();
  }
}
