/** Facts about the machine and the servers a run measured on, for RESULTS.md. */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { NATS_URL, REDIS_URL } from '../../test/helpers/env.ts';

/** Label → value, in display order. */
export type Facts = [string, string][];

function sh(cmd: string[]): string {
  try {
    const p = Bun.spawnSync(cmd);
    return (p.stdout.toString() + p.stderr.toString()).trim();
  } catch {
    return 'unknown';
  }
}

function cpuModel(): string {
  const text = readFileSync('/proc/cpuinfo', 'utf8');
  return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? 'unknown';
}

function memory(): string {
  const kb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  return Number.isFinite(kb) ? `${(kb / 1024 / 1024).toFixed(1)} GiB` : 'unknown';
}

async function redisVersion(): Promise<string> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await r.connect();
    return /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown';
  } catch (err) {
    return `unreachable (${(err as Error).message})`;
  } finally {
    r.disconnect();
  }
}

async function natsVersion(): Promise<string> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 2_000 });
    const v = nc.info?.version ?? 'unknown';
    const js = nc.info?.jetstream ? ' (JetStream on)' : '';
    await nc.close();
    return v + js;
  } catch (err) {
    return `unreachable (${(err as Error).message})`;
  }
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Collects the facts (runs `nproc`, reads /proc, asks Redis and NATS for their versions). */
export async function machineFacts(loadGenerator: string): Promise<Facts> {
  const os = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  return [
    ['CPUs (nproc)', sh(['nproc']) || String(availableParallelism())],
    ['CPU model', cpuModel()],
    ['memory', memory()],
    ['OS / kernel', `${os} / Linux ${sh(['uname', '-r'])}`],
    ['bun', Bun.version],
    ['Redis server', await redisVersion()],
    ['NATS server', await natsVersion()],
    ['PGlite (in-memory, HTTP benchmark)', packageVersion('@electric-sql/pglite')],
    ['hono / bullmq / @nats-io/jetstream', `${packageVersion('hono')} / ${packageVersion('bullmq')} / ${packageVersion('@nats-io/jetstream')}`],
    ['HTTP load generator', loadGenerator],
  ];
}
