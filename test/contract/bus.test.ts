/** Runs the EventBus contract against MemoryBus and NatsBus (real NATS), plus NATS-only failure tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusMetrics } from '../../src/kernel/bus/hooks.ts';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import { NatsBus } from '../../src/kernel/bus/nats-bus.ts';
import type { EventBus } from '../../src/kernel/bus/port.ts';
import { Unavailable } from '../../src/kernel/errors.ts';
import { sleep } from '../../src/kernel/time.ts';
import { childNats } from '../helpers/child-services.ts';
import { NATS_URL, uniqueName } from '../helpers/env.ts';
import { busContract, Collector } from './bus-contract.ts';

busContract('memory', async () => {
  const bus = new MemoryBus({ source: 'memory-test' });
  return { bus, cleanup: () => bus.close() };
});

// One admin connection deletes each test's stream, even after the test closed its own buses.
let admin: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  admin = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(admin);
});
afterAll(async () => {
  await admin?.close();
});

/** Opens a NatsBus on a fresh prefix; more buses on the same prefix act as other processes. */
async function natsFixture(opts: { metrics?: BusMetrics } = {}) {
  const prefix = uniqueName('bus');
  const buses: NatsBus[] = [];
  const open = async () => {
    const b = await NatsBus.connect({ url: NATS_URL, prefix, source: 'nats-test', duplicateWindowMs: 60_000, ...opts });
    buses.push(b);
    return b;
  };
  const bus = await open();
  return {
    bus,
    prefix,
    newBus: open,
    cleanup: async () => {
      for (const b of buses) await b.close();
      await jsm.streams.delete(bus.streamName).catch(() => {});
    },
  };
}

busContract('nats', () => natsFixture());

describe('NatsBus beyond the contract', () => {
  it('drops and counts malformed messages from the network instead of crashing', async () => {
    const malformed: string[] = [];
    const counts = { published: 0, delivered: 0 };
    const fx = await natsFixture({ metrics: { published: () => counts.published++, delivered: () => counts.delivered++, malformed: (s) => malformed.push(s) } });
    try {
      const eph = new Collector();
      const dur = new Collector();
      await fx.bus.subscribe('raw.>', eph.push);
      await fx.bus.durable({ name: 'd_raw', pattern: 'raw.>', ackWaitMs: 1_000 }, dur.push);
      const nc = fx.bus.connection;
      const js = (await jetstreamManager(nc)).jetstream();
      // Not JSON, JSON without the envelope fields, and an envelope whose type lies about its subject.
      await js.publish(`${fx.prefix}.raw.a`, 'not json');
      await js.publish(`${fx.prefix}.raw.b`, JSON.stringify({ hello: 'world' }));
      await js.publish(`${fx.prefix}.raw.c`, JSON.stringify({ id: 'x', type: 'other.type', time: new Date().toISOString(), source: 's', data: 1 }));
      const good = await fx.bus.publish('raw.good', { ok: true });
      await eph.atLeast(1);
      await dur.atLeast(1);
      await sleep(1_700);
      expect(eph.events.map((e) => e.id)).toEqual([good.id]);
      expect(dur.events.map((e) => e.id)).toEqual([good.id]);
      // Three bad messages, seen by the ephemeral and the durable subscriber once each (terminated, not redelivered).
      expect(malformed).toHaveLength(6);
      expect(counts).toEqual({ published: 1, delivered: 2 });
    } finally {
      await fx.cleanup();
    }
  });

  it('redelivers after ack wait when the process holding an event dies without a word', async () => {
    const fx = await natsFixture();
    try {
      const opts = { name: 'd_dies', pattern: 'dies.*', ackWaitMs: 1_000 };
      const victim = await fx.newBus();
      const first = new Collector();
      await victim.durable(opts, async (e) => {
        first.push(e);
        await new Promise(() => {});
      });
      const e = await fx.bus.publish('dies.item', 1);
      await first.atLeast(1);
      // close() without drain: no nak, no ack, exactly what a SIGKILL leaves behind.
      await victim.connection.close();
      const survivor = new Collector();
      await fx.bus.durable(opts, survivor.push);
      await survivor.atLeast(1);
      expect(survivor.events.map((x) => x.id)).toEqual([e.id]);
    } finally {
      await fx.cleanup();
    }
  });

  it('survives a NATS restart: ping fails while down, acknowledged events survive, consumers resume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bus-nats-'));
    const server = await childNats(dir);
    await server.start();
    let bus: EventBus | undefined;
    try {
      const nbus = await NatsBus.connect({ url: server.url, prefix: uniqueName('rs'), source: 'restart-test' });
      bus = nbus;
      const before = await nbus.publish('rs.item', 'before');
      await server.kill('SIGKILL');
      expect(await nbus.ping().then(() => 'ok', (err: unknown) => err)).toBeInstanceOf(Unavailable);
      await server.start();
      // The client reconnects on its own; wait for it.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const ok = await nbus.ping().then(() => true, () => false);
        if (ok) break;
        if (Date.now() > deadline) throw new Error('bus did not reconnect');
        await sleep(200);
      }
      const got = new Collector();
      await nbus.durable({ name: 'd_rs', pattern: 'rs.*', start: 'all', ackWaitMs: 1_000 }, got.push);
      const after = await nbus.publish('rs.item', 'after');
      await got.atLeast(2);
      expect(got.events.map((e) => e.id)).toEqual([before.id, after.id]);
    } finally {
      await bus?.close();
      await server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
