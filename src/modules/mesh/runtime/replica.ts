/**
 * One running replica of a workload on this node: a local process started under `setpriv --pdeathsig KILL`, so the
 * kernel kills it the moment its agent dies (even by SIGKILL), or a webhook pair for systems the agent does not own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { callHttp, runCommand } from '../../../kernel/index.ts';
import type { HealthSpec, WorkloadSpec } from '../model/workload.ts';

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
  private done = false;

  constructor(private readonly child: ChildProcess, private readonly spec: Extract<WorkloadSpec['run'], { kind: 'process' }>, private readonly ctx: ReplicaContext) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.done = true;
        resolve(code);
      });
      child.once('error', () => {
        this.done = true;
        resolve(null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(graceMs: number): Promise<void> {
    if (this.done) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
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

  async stop(graceMs: number): Promise<void> {
    await callHttp({ method: 'POST', url: substitute(this.spec.stopUrl, this.ctx), body: { slot: this.ctx.slot, token: this.ctx.token, node: this.ctx.node }, timeoutMs: Math.max(graceMs, 500) });
  }

  healthy(): Promise<boolean> {
    return check(this.spec.health, this.ctx);
  }
}

/** Starts a replica; a process gets CAPSTAN_FENCING_TOKEN, CAPSTAN_FENCING_URL, CAPSTAN_NODE_ID and CAPSTAN_SLOT. */
export async function startReplica(spec: WorkloadSpec, ctx: ReplicaContext): Promise<Replica> {
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
  // setpriv execs the workload in place, so the workload itself carries the parent-death signal.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...argv], { cwd: run.cwd ? substitute(run.cwd, ctx) : undefined, env, stdio: ['ignore', 'inherit', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return new ProcessReplica(child, run, ctx);
}
