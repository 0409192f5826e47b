/** Child process of the lease benchmark: acquires the lease through KvLeases over NatsKvStore, prints `held <token>`, then keeps renewing until killed. */
import { connect } from '@nats-io/transport-node';
import { KvLeases } from '../src/kernel/kv/leases.ts';
import { NatsKvStore } from '../src/kernel/kv/nats-kv.ts';

const [natsUrl, prefix, name, ttlArg] = process.argv.slice(2);
if (!natsUrl || !prefix || !name || !ttlArg) {
  process.stderr.write('usage: bun bench/lease-holder.ts NATS_URL PREFIX LEASE TTL_MS\n');
  process.exit(2);
}
const nc = await connect({ servers: natsUrl, name: `bench-holder-${process.pid}` });
const leases = new KvLeases(new NatsKvStore({ connection: nc, prefix }), `holder-${process.pid}`);
const holder = await leases.acquire(name, { ttlMs: Number(ttlArg) });
if (!holder) {
  process.stderr.write(`lease ${name} is held by someone else\n`);
  process.exit(1);
}
process.stdout.write(`held ${holder.token}\n`);
// Renewal runs on the adapter's timers; this process only has to stay alive until the parent kills it.
setInterval(() => {}, 1 << 30);
