/** Test kit for the mesh: agent child processes, a token-checking register with a history checker, KV access. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { workloadSpecSchema } from '../../src/modules/mesh/model/workload.ts';
import { openBuckets, type MeshBuckets, type SlotStatus } from '../../src/modules/mesh/store/buckets.ts';
import { NATS_URL, uniqueName } from './env.ts';
import { BUN, REPO_ROOT } from './server-process.ts';
import { startTcpProxy } from './tcp-proxy.ts';

/** A running `capstan agent` child. */
export interface AgentProcess {
  node: string;
  child: ChildProcess;
  output(): string;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** An agent child that may not have joined yet. */
export interface SpawnedAgent extends AgentProcess {
  /** Resolves once it printed that it joined; rejects when it exits first or after `joinTimeoutMs`. */
  joined: Promise<void>;
  /** Resolves with its exit code. */
  exited: Promise<number | null>;
}

/**
 * Spawns `bun src/main.ts agent ...` (or `<binary> agent ...`, e.g. the compiled dist/capstan) without waiting for
 * the join; the child is killed when the test process exits.
 */
export function spawnAgent(o: { node: string; site: string; labels?: string; natsUrl: string; prefix: string; extra?: string[]; capacity?: number; joinTimeoutMs?: number; binary?: string }): SpawnedAgent {
  const args = [...(o.binary ? [] : [join(REPO_ROOT, 'src/main.ts')]), 'agent', '--node-id', o.node, '--site', o.site, '--capacity', String(o.capacity ?? 4), ...(o.labels ? ['--labels', o.labels] : []), ...(o.extra ?? [])];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(CAPSTAN_|DATABASE_URL|REDIS_URL|NATS_URL)/.test(k)) env[k] = v;
  const child = spawn(o.binary ?? BUN, args, { cwd: REPO_ROOT, env: { ...env, NATS_URL: o.natsUrl, CAPSTAN_PREFIX: o.prefix, CAPSTAN_LOG_LEVEL: process.env.MESH_AGENT_LOG_LEVEL ?? 'warn' /* debug to see an agent's lease steps */ }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const joined = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent ${o.node} did not join within ${o.joinTimeoutMs ?? 180_000} ms:\n${out}`));
    }, o.joinTimeoutMs ?? 180_000);
    child.stdout!.on('data', () => {
      if (out.includes(`agent ${o.node} joined`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent ${o.node} exited ${code}:\n${out}`));
    });
  });
  joined.catch(() => {});
  return {
    node: o.node,
    child,
    joined,
    exited,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      // An agent that hangs in its graceful stop must not outlive the test (one once kept running after api-e2e).
      const kill = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}

/** Starts `bun src/main.ts agent ...` and resolves once it joined. */
export async function startAgent(o: Parameters<typeof spawnAgent>[0]): Promise<AgentProcess> {
  const a = spawnAgent(o);
  await a.joined;
  return a;
}

/** One write attempt seen by the register. */
export interface RegisterWrite {
  t: number;
  token: number;
  node: string;
  accepted: boolean;
}

/** A token-checking register: accepts a write only if its token is ≥ the highest seen; records every attempt. */
export function startRegister() {
  const writes: RegisterWrite[] = [];
  let max = 0;
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { token: number; node: string };
      const accepted = body.token >= max;
      if (accepted) max = body.token;
      writes.push({ t: Date.now(), token: body.token, node: body.node, accepted });
      return new Response(null, { status: accepted ? 204 : 409 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/`, writes, stop: () => server.stop(true) };
}

/** Active interval of each token: from its first to its last write attempt (accepted or not). */
export function intervals(writes: RegisterWrite[]): { token: number; node: string; from: number; to: number }[] {
  const by = new Map<number, { token: number; node: string; from: number; to: number }>();
  for (const w of writes) {
    const i = by.get(w.token);
    if (!i) by.set(w.token, { token: w.token, node: w.node, from: w.t, to: w.t });
    else i.to = Math.max(i.to, w.t);
  }
  return [...by.values()].sort((a, b) => a.from - b.from);
}

/** Pairs of tokens whose active intervals overlap (the history checker for absolute-consistency). */
export function overlaps(writes: RegisterWrite[]): string[] {
  const iv = intervals(writes);
  const out: string[] = [];
  for (let i = 0; i < iv.length; i++) for (let j = i + 1; j < iv.length; j++) if (iv[j]!.from <= iv[i]!.to) out.push(`token ${iv[i]!.token}@${iv[i]!.node} [${iv[i]!.from},${iv[i]!.to}] overlaps token ${iv[j]!.token}@${iv[j]!.node} [${iv[j]!.from},${iv[j]!.to}]`);
  return out;
}

/** The mesh buckets under a prefix on real NATS. */
export async function meshKv(natsUrl: string, prefix: string): Promise<{ store: NatsKvStore; b: MeshBuckets }> {
  const store = new NatsKvStore({ url: natsUrl, prefix });
  return { store, b: await openBuckets(store) };
}

/**
 * What a partition test sets up: the mesh buckets under a fresh prefix, the token register, a TCP proxy in front of
 * NATS (to black-hole an agent's traffic) and a list of agents; `close` stops them all (agents by SIGKILL).
 */
export async function meshPartitionFixture(name: string) {
  const prefix = uniqueName(name);
  const { store, b } = await meshKv(NATS_URL, prefix);
  const register = startRegister();
  const proxy = await startTcpProxy(Number(new URL(NATS_URL).port || 4222));
  const agents: AgentProcess[] = [];
  const close = async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await proxy.close();
    register.stop();
    await store.destroyAll();
    await store.close();
  };
  return { prefix, store, b, register, proxy, agents, close };
}

/** Writes a workload as the API would (checked by its schema). */
export async function putWorkload(b: MeshBuckets, spec: unknown): Promise<void> {
  const parsed = workloadSpecSchema.parse(spec);
  await b.workloads.put(parsed.name, { spec: parsed, desired: 'running', updatedAt: new Date().toISOString() });
}

/** Status of one slot. */
export async function slotStatus(b: MeshBuckets, workload: string, slot = 0): Promise<SlotStatus | undefined> {
  return (await b.status.get<SlotStatus>(`${workload}.${slot}`))?.value;
}

/** A process workload running the test fixture on the port in the node's `port` label. */
export function fixtureWorkload(name: string, topology: unknown, registerUrl?: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    run: { kind: 'process', argv: [BUN, join(REPO_ROOT, 'test/fixtures/mesh-workload.ts')], env: { PORT: '{label:port}', ...(registerUrl ? { REGISTER_URL: registerUrl } : {}) }, health: { url: 'http://127.0.0.1:{label:port}/', intervalMs: 100 }, restart: 'on-failure' },
    topology,
    ...extra,
  };
}
