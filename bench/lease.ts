/** Lease benchmark: takeover time after SIGKILL of the holder at the default TTL, KvLeases over NatsKvStore. */
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { buildConfigSchema } from '../src/kernel/config/schema.ts';
import { KvLeases } from '../src/kernel/kv/leases.ts';
import { NatsKvStore } from '../src/kernel/kv/nats-kv.ts';
import { NATS_URL, uniqueName } from '../test/helpers/env.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { formatNumber, percentile } from './lib/stats.ts';

/** Sizes of one lease run. */
export interface LeaseBenchOptions {
  runs: number;
  /** Period of the new holder's acquire attempts. */
  pollMs: number;
  /** Lease TTL; default: the configuration's `leases.defaultTtlMs`. */
  ttlMs?: number;
}

const DEFAULTS: LeaseBenchOptions = { runs: 20, pollMs: 50 };

/** How this benchmark measures, for RESULTS.md. */
export const LEASE_METHOD = [
  `a child bun process acquires the lease through KvLeases over NatsKvStore at the default TTL (config leases.defaultTtlMs) and prints when it holds it; the parent SIGKILLs it at once (so the holder's last write is the acquire itself: the longest wait within a renewal cycle) and calls acquire from its own KvLeases on its own connection every ${DEFAULTS.pollMs} ms; the figure is kill → granted, ${DEFAULTS.runs} runs, nearest-rank percentiles (with ${DEFAULTS.runs} runs, p99 is the slowest run). The new holder then releases the lease for the next run; buckets are deleted afterwards.`,
  'No baseline: the takeover is bounded below by the TTL by design; "− TTL" is the detection overhead.',
];

/** The default TTL as the configuration schema fills it in. */
export function defaultTtlMs(): number {
  return buildConfigSchema([]).parse({}).leases.defaultTtlMs;
}

/** Starts a holder child and resolves with it and its fencing token once it prints that it holds the lease. */
async function startHolder(prefix: string, name: string, ttlMs: number) {
  const child = Bun.spawn([process.execPath, join(import.meta.dirname, 'lease-holder.ts'), NATS_URL, prefix, name, String(ttlMs)], { stdout: 'pipe', stderr: 'inherit' });
  const reader = child.stdout.getReader();
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let text = '';
  try {
    while (!/held (\d+)\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`lease holder exited before holding the lease (code ${await child.exited})`);
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return { child, token: Number(/held (\d+)/.exec(text)![1]) };
}

/** Runs the lease benchmark and returns its rows. */
export async function runLease(opts: Partial<LeaseBenchOptions> = {}): Promise<BenchRow[]> {
  const o = { ...DEFAULTS, ...opts };
  const ttl = o.ttlMs ?? defaultTtlMs();
  const prefix = uniqueName('benchlease');
  const name = 'bench-lease';
  const nc = await connect({ servers: NATS_URL, name: 'bench-lease-taker' });
  const store = new NatsKvStore({ connection: nc, prefix });
  const leases = new KvLeases(store, `taker-${process.pid}`);
  const takeovers: number[] = [];
  let fencingOk = true;
  progress('lease', `${o.runs} runs at TTL ${ttl} ms (about ${Math.ceil((o.runs * (ttl + 700)) / 1000)} s)`);
  try {
    for (let run = 1; run <= o.runs; run++) {
      const { child, token } = await startHolder(prefix, name, ttl);
      const killedAt = performance.now();
      child.kill('SIGKILL');
      const deadline = killedAt + 3 * ttl + 10_000;
      let holder = await leases.acquire(name, { ttlMs: ttl, autoRenew: false });
      while (!holder) {
        if (performance.now() > deadline) throw new Error(`run ${run}: lease not granted within ${Math.round(deadline - killedAt)} ms of the kill`);
        await Bun.sleep(o.pollMs);
        holder = await leases.acquire(name, { ttlMs: ttl, autoRenew: false });
      }
      const ms = performance.now() - killedAt;
      takeovers.push(ms);
      if (!(holder.token > token)) fencingOk = false;
      progress('lease', `run ${run}/${o.runs}: granted ${formatNumber(ms)} ms after SIGKILL (TTL ${ms >= ttl ? '+' : '−'} ${formatNumber(Math.abs(ms - ttl))} ms); token ${token} -> ${holder.token}`);
      await holder.release();
      await child.exited;
    }
  } finally {
    await store.destroyAll().catch((err) => progress('lease', `cleanup: ${(err as Error).message}`));
    await store.close().catch(() => {});
    await nc.drain().catch(() => nc.close());
  }
  const perRun = takeovers.map((ms) => Math.round(ms - ttl)).join(', ');
  const detail = `${o.runs} runs, poll every ${o.pollMs} ms, killed right after acquire; takeover − TTL per run (ms): ${perRun}; fencing tokens ${fencingOk ? 'increased on every takeover' : 'DID NOT always increase'}`;
  const label = `lease takeover after SIGKILL, TTL ${ttl.toLocaleString('en-US')} ms`;
  // The per-run detail goes on the first row only: the four rows are one measurement.
  const row = (suffix: string, value: number, withDetail = false): BenchRow => ({ group: 'lease', name: `${label}: ${suffix}`, unit: 'ms', kernel: value, ...(withDetail ? { detail } : {}) });
  return [
    row('p50', percentile(takeovers, 50), true),
    row('p99', percentile(takeovers, 99)),
    row('p50 − TTL', percentile(takeovers, 50) - ttl),
    row('p99 − TTL', percentile(takeovers, 99) - ttl),
  ];
}

if (import.meta.main) {
  const { printTable } = await import('./lib/table.ts');
  printTable(await runLease());
  process.exit(0);
}
