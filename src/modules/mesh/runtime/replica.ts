/**
 * One running replica of a workload on this node: a local process started by the replica watchdog under
 * `setpriv --pdeathsig KILL` (the watchdog stops it by itself when the agent stops renewing, and the kernel kills it
 * when the watchdog dies with its agent), or a webhook pair for systems the agent does not own.
 */
import { readFileSync } from 'node:fs';
import { callHttp, runCommand } from '../../../kernel/index.ts';
import type { HealthSpec, WorkloadSpec } from '../model/workload.ts';
import type { WatchdogClient, WatchedProcess } from './watchdog/client.ts';

/** What a replica gets to know about where and under which token it runs. */
export interface ReplicaContext {
  node: string;
  labels: Record<string, string>;
  slot: number;
  token: number;
  tokenUrl?: string;
}

/** `{node}`, `{slot}` and `{label:NAME}` in argv, env, cwd and health, so one spec can run on every node. */
export function substitute(s: string, ctx: ReplicaContext): string {
  return s.replace(/\{(node|slot|label:([A-Za-z0-9_.-]+))\}/g, (_, what: string, label?: string) => (label ? (ctx.labels[label] ?? '') : what === 'node' ? ctx.node : String(ctx.slot)));
}

/** A started replica. */
export interface Replica {
  readonly pid?: number;
  /** Resolves when the replica ends by itself (process exit code; webhooks never end by themselves). */
  readonly exited: Promise<number | null>;
  /** Wall clock when the process was seen to end (by its watchdog, even while the agent was paused). */
  readonly endedAt?: number;
  /** Wall clock when the process started (undefined for webhooks: the agent's own clock is used). */
  readonly startedAt?: number;
  /** It ended because its watchdog stopped it at a deadline this agent had not moved in time. */
  readonly stoppedByWatchdog?: boolean;
  /** Moves the deadline by which the watchdog stops the replica without the agent (wall ms; null: none). */
  setDeadline(at: number | null): void;
  /** Stops it: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs: number): Promise<void>;
  /** Runs the health check once (true when there is none). */
  healthy(): Promise<boolean>;
}

/** True when `/proc/<pid>` shows a process that still runs (a zombie has stopped running). */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function check(h: HealthSpec | undefined, ctx: ReplicaContext): Promise<boolean> {
  if (!h) return true;
  try {
    if ('url' in h) {
      // Any 2xx answers the check, whatever its body (callHttp wants JSON).
      const res = await fetch(substitute(h.url, ctx), { signal: AbortSignal.timeout(h.timeoutMs) });
      await res.body?.cancel();
      return res.ok;
    } else {
      await runCommand(h.command.map((a) => substitute(a, ctx)), { timeoutMs: h.timeoutMs });
    }
    return true;
  } catch {
    return false;
  }
}

class ProcessReplica implements Replica {
  readonly exited: Promise<number | null>;
  endedAt?: number;
  stoppedByWatchdog = false;
  private done = false;

  constructor(private readonly proc: WatchedProcess, private readonly spec: Extract<WorkloadSpec['run'], { kind: 'process' }>, private readonly ctx: ReplicaContext) {
    this.exited = proc.exited.then((e) => {
      this.done = true;
      this.endedAt = e.at;
      this.stoppedByWatchdog = e.deadline;
      return e.code;
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  get startedAt(): number {
    return this.proc.startedAt;
  }

  setDeadline(at: number | null): void {
    if (!this.done) this.proc.setDeadline(at);
  }

  async stop(graceMs: number): Promise<void> {
    if (this.done) return;
    this.proc.signal(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const killer = graceMs > 0 ? setTimeout(() => this.proc.signal('SIGKILL'), graceMs) : undefined;
    await this.exited;
    clearTimeout(killer);
  }

  healthy(): Promise<boolean> {
    return this.done ? Promise.resolve(false) : check(this.spec.health, this.ctx);
  }
}

class WebhookReplica implements Replica {
  readonly exited = new Promise<number | null>(() => {});

  constructor(private readonly spec: Extract<WorkloadSpec['run'], { kind: 'webhook' }>, private readonly ctx: ReplicaContext) {}

  /** A webhook's system is not ours to kill: only the agent's own stop call (and the token) protect it. */
  setDeadline(): void {}

  async stop(graceMs: number): Promise<void> {
    await callHttp({ method: 'POST', url: substitute(this.spec.stopUrl, this.ctx), body: { slot: this.ctx.slot, token: this.ctx.token, node: this.ctx.node }, timeoutMs: Math.max(graceMs, 500) });
  }

  healthy(): Promise<boolean> {
    return check(this.spec.health, this.ctx);
  }
}

/** How a process replica is started: through the agent's watchdog, with its first deadline. */
export interface ReplicaLaunch {
  watchdog: WatchdogClient;
  /** Wall-clock ms by which the watchdog stops it unless moved (null: never, for split-brain-allowed). */
  deadlineAt: number | null;
  graceMs: number;
}

/** Starts a replica; a process gets CAPSTAN_FENCING_TOKEN, CAPSTAN_FENCING_URL, CAPSTAN_NODE_ID and CAPSTAN_SLOT. */
export async function startReplica(spec: WorkloadSpec, ctx: ReplicaContext, launch: ReplicaLaunch): Promise<Replica> {
  const run = spec.run;
  if (run.kind === 'webhook') {
    await callHttp({ method: 'POST', url: substitute(run.startUrl, ctx), body: { slot: ctx.slot, token: ctx.token, node: ctx.node }, timeoutMs: 5_000 });
    return new WebhookReplica(run, ctx);
  }
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [k, v] of Object.entries(run.env)) env[k] = substitute(v, ctx);
  env.CAPSTAN_FENCING_TOKEN = String(ctx.token);
  env.CAPSTAN_NODE_ID = ctx.node;
  env.CAPSTAN_SLOT = String(ctx.slot);
  if (ctx.tokenUrl) env.CAPSTAN_FENCING_URL = `${ctx.tokenUrl}/${spec.name}/${ctx.slot}`;
  const argv = run.argv.map((a) => substitute(a, ctx));
  const proc = await launch.watchdog.spawn({ argv, env, cwd: run.cwd ? substitute(run.cwd, ctx) : undefined, deadlineAt: launch.deadlineAt, graceMs: launch.graceMs });
  return new ProcessReplica(proc, run, ctx);
}
