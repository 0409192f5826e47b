/**
 * A 3-node NATS cluster for fault tests: three `nats-server` child processes with JetStream and cluster routes on
 * loopback ports, each restartable. Servers do not advertise their client URLs (`no_advertise`), so a client that was
 * given proxy addresses never learns the real ports and cannot slip past a partition.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { freePort, waitForPort } from './child-services.ts';

/** One server of the cluster. */
export interface ClusterServer {
  name: string;
  port: number;
  url: string;
  running(): boolean;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The running cluster. */
export interface NatsCluster {
  servers: ClusterServer[];
  /** Every server's client URL, comma-separated (what NATS_URL takes). */
  url: string;
  /** Name of the server that leads a stream's replicas (`KV_<bucket>` for a KV bucket). */
  streamLeader(stream: string): Promise<string | undefined>;
  /** Creates a KV bucket's stream with 3 replicas before anyone opens it (openers then bind to it as it is). */
  createReplicatedBucket(bucket: string): Promise<void>;
  stop(): Promise<void>;
}

function binary(): string {
  return ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => Bun.file(p).size > 0) ?? 'nats-server';
}

/** Starts three clustered servers storing under `dir` and waits until JetStream answers with a meta leader. */
export async function startNatsCluster(dir: string): Promise<NatsCluster> {
  const ports = await Promise.all([0, 1, 2].map(async () => ({ client: await freePort(), route: await freePort() })));
  const servers: ClusterServer[] = ports.map((p, i) => {
    const name = `c${i + 1}`;
    const conf = join(dir, `${name}.conf`);
    mkdirSync(join(dir, name), { recursive: true });
    const routes = ports.filter((_, j) => j !== i).map((o) => `nats-route://127.0.0.1:${o.route}`);
    writeFileSync(conf, `server_name: ${name}\nlisten: 127.0.0.1:${p.client}\njetstream { store_dir: "${join(dir, name)}" }\ncluster {\n  name: meshtest\n  listen: 127.0.0.1:${p.route}\n  routes: [${routes.join(', ')}]\n  no_advertise: true\n}\n`);
    let child: ChildProcess | undefined;
    return {
      name,
      port: p.client,
      url: `nats://127.0.0.1:${p.client}`,
      running: () => !!child && child.exitCode === null && child.signalCode === null,
      async start() {
        child = spawn(binary(), ['-c', conf], { stdio: 'ignore' });
        const c = child;
        process.once('exit', () => c.kill('SIGKILL'));
        // A restart recovers JetStream from disk first; on a loaded machine that took over 15 s (the default wait).
        await waitForPort(p.client, 120_000);
      },
      async kill(signal = 'SIGKILL') {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill(signal);
        await exited;
      },
    };
  });
  await Promise.all(servers.map((s) => s.start()));
  const url = servers.map((s) => s.url).join(',');
  let nc: NatsConnection | undefined;
  const conn = async () => (nc ??= await connect({ servers: servers.map((s) => s.url), maxReconnectAttempts: -1, reconnectTimeWait: 250 }));
  const retry = async <T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
        await Bun.sleep(250);
      }
    }
  };
  // The meta leader is elected a moment after the routes connect; until then JetStream calls fail.
  await retry('JetStream in the cluster', async () => (await jetstreamManager(await conn())).getAccountInfo());
  return {
    servers,
    url,
    async streamLeader(stream) {
      const jsm = await jetstreamManager(await conn());
      return (await jsm.streams.info(stream)).cluster?.leader;
    },
    async createReplicatedBucket(bucket) {
      const { Kvm } = await import('@nats-io/kv');
      await retry(`bucket ${bucket} with 3 replicas`, async () => void (await new Kvm(await conn()).create(bucket, { history: 1, replicas: 3 })));
    },
    async stop() {
      await nc?.close().catch(() => {});
      await Promise.all(servers.map((s) => s.kill()));
    },
  };
}
