/** Bus benchmark: events/s publish→deliver through the kernel's NatsBus against raw nats.js, plus MemoryBus. */
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MemoryBus } from '../src/kernel/bus/memory-bus.ts';
import { NatsBus } from '../src/kernel/bus/nats-bus.ts';
import type { EventBus } from '../src/kernel/bus/port.ts';
import { createMetrics } from '../src/kernel/metrics.ts';
import { NATS_URL, uniqueName } from '../test/helpers/env.ts';
import { Countdown, pipelined } from './lib/pipeline.ts';
import { alternate } from './lib/rounds.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { formatNumber, formatPairedRatios, formatRounds, median } from './lib/stats.ts';

/** Sizes of one bus run. */
export interface BusBenchOptions {
  /** Events per measured round. */
  events: number;
  /** Events in the warm-up run of each side. */
  warmup: number;
  rounds: number;
  /** Publications awaiting their JetStream ack at any moment. */
  inFlight: number;
}

const DEFAULTS: BusBenchOptions = { events: 30_000, warmup: 3_000, rounds: 5, inFlight: 256 };
const TYPE = 'bench.tick';
// MemoryBus's default log size (memory-bus.ts); past it the bus runs in its steady state.
const MEMORY_LOG_LIMIT = 100_000;
const DATA = { note: 'benchmark event', n: 0 };
// Same stream limits as the kernel's bus stream (nats-stream.ts), so the server does the same work for both.
const DAY_NS = 24 * 3600 * 1e9;

/** How this benchmark measures, for RESULTS.md. */
export const BUS_METHOD = [
  `events/s from the first publish to the last delivery: an ephemeral subscription counts deliveries while N events are published with ${DEFAULTS.inFlight} publications awaiting their JetStream ack at any time; ${DEFAULTS.rounds} rounds of ${DEFAULTS.events.toLocaleString('en-US')} events after a ${DEFAULTS.warmup.toLocaleString('en-US')}-event warm-up; each side has its own NATS connection and stream (same limits: file storage, 7-day max age, 2-minute duplicate window); streams are deleted afterwards.`,
  'kernel: NatsBus.connect + subscribe + publish (envelope with a UUIDv7 id, zod-validated on delivery, metrics hooks wired as in openResources).',
  'baseline: raw nats.js: js.publish of a JSON message with the same fields and a msgID (randomUUID), core nc.subscribe parsing each message with JSON.parse.',
  `MemoryBus has no baseline: fresh bus per round (${(2 * DEFAULTS.events).toLocaleString('en-US')} events), and one bus that has already stored 100,000 events (its default log size) to show the steady state of a long-running process.`,
];

/** One side of the comparison: publish `n` events with bounded concurrency; resolves to events/s publish→deliver. */
type Side = (n: number) => Promise<number>;

/** CPU microseconds this process spent per event in each measured call, by side (the NATS server's CPU is not included). */
const cpuPerEvent: Record<string, number[]> = { kernel: [], raw: [], memory: [] };

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Events/s through any EventBus: ephemeral subscription, pipelined publish, count deliveries. */
function busSide(bus: EventBus, inFlight: number, label: string): Side {
  return async (n) => {
    const seen = new Countdown(n, 60_000, 'deliveries');
    const sub = await bus.subscribe(TYPE, () => seen.hit());
    try {
      const cpu = cpuUs();
      const started = performance.now();
      await pipelined(n, inFlight, (i) => bus.publish(TYPE, { ...DATA, n: i }));
      const finished = await seen.done;
      cpuPerEvent[label]!.push((cpuUs() - cpu) / n);
      return n / ((finished - started) / 1000);
    } finally {
      await sub.unsubscribe();
    }
  };
}

/** Raw nats.js: JetStream publish with a message id (as the kernel sends) and a core subscription parsing the JSON. */
async function rawSide(nc: NatsConnection, prefix: string, inFlight: number): Promise<{ side: Side; cleanup(): Promise<void> }> {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const stream = `BENCHRAW_${prefix.toUpperCase()}`;
  await jsm.streams.add({
    name: stream,
    subjects: [`${prefix}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: 7 * DAY_NS,
    duplicate_window: 120 * 1e9,
  });
  const js = jetstream(nc, { timeout: 5_000 });
  const subject = `${prefix}.${TYPE}`;
  const side: Side = async (n) => {
    const seen = new Countdown(n, 60_000, 'deliveries');
    const sub = nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) {
        JSON.parse(m.string());
        seen.hit();
      }
    })();
    await nc.flush();
    try {
      const cpu = cpuUs();
      const started = performance.now();
      await pipelined(n, inFlight, async (i) => {
        const id = crypto.randomUUID();
        // The same fields the kernel's envelope carries, so both sides move the same bytes.
        const msg = JSON.stringify({ id, type: TYPE, time: new Date().toISOString(), source: 'bench-raw', data: { ...DATA, n: i } });
        await js.publish(subject, msg, { msgID: id });
      });
      const finished = await seen.done;
      cpuPerEvent.raw!.push((cpuUs() - cpu) / n);
      return n / ((finished - started) / 1000);
    } finally {
      sub.unsubscribe();
    }
  };
  return { side, cleanup: () => jsm.streams.delete(stream).then(() => {}) };
}

/** Runs the bus benchmark and returns its rows. */
export async function runBus(opts: Partial<BusBenchOptions> = {}): Promise<BenchRow[]> {
  const o = { ...DEFAULTS, ...opts };
  const prefix = uniqueName('benchbus');
  const metrics = createMetrics();
  // Each side has its own connection, as the kernel's bus opens one when given only a URL.
  const bus = await NatsBus.connect({ url: NATS_URL, prefix, source: 'bench', metrics: metrics.busHooks });
  const rawNc = await connect({ servers: NATS_URL, name: 'bench-raw' });
  const raw = await rawSide(rawNc, `${prefix}_raw`, o.inFlight);
  const rows: BenchRow[] = [];
  try {
    const kernel = busSide(bus, o.inFlight, 'kernel');
    progress('bus', `warm-up: ${o.warmup} events each`);
    await kernel(o.warmup);
    await raw.side(o.warmup);
    cpuPerEvent.kernel = [];
    cpuPerEvent.raw = [];
    const r = await alternate(o.rounds, { kernel: () => kernel(o.events), baseline: () => raw.side(o.events) }, (round, f) =>
      progress('bus', `round ${round}/${o.rounds}: NatsBus ${formatNumber(f.kernel)} ev/s, raw nats.js ${formatNumber(f.baseline)} ev/s`),
    );
    rows.push({
      group: 'bus',
      name: `NatsBus publish→deliver (${o.inFlight} in flight)`,
      unit: 'events/s',
      kernel: median(r.kernel),
      baseline: median(r.baseline),
      goalRatio: 0.8,
      detail: `${o.events.toLocaleString('en-US')} events/round; NatsBus ${formatRounds(r.kernel)}; raw nats.js ${formatRounds(r.baseline)}; per-round ratios ${formatPairedRatios(r.kernel, r.baseline)}; CPU of this process per event (median): NatsBus ${formatNumber(median(cpuPerEvent.kernel))} µs, raw ${formatNumber(median(cpuPerEvent.raw))} µs`,
    });
  } finally {
    await bus.deleteStream().catch((err) => progress('bus', `cleanup: ${(err as Error).message}`));
    await bus.close();
    await raw.cleanup().catch((err) => progress('bus', `cleanup: ${(err as Error).message}`));
    await rawNc.drain().catch(() => rawNc.close());
  }

  // A fresh MemoryBus per round and, separately, one that has already stored more events than its log keeps
  // (100,000 by default): a long-running process lives in the second state.
  const memEvents = o.events * 2;
  const fresh: number[] = [];
  for (let i = 0; i < o.rounds; i++) {
    const memory = new MemoryBus({ source: 'bench', metrics: metrics.busHooks });
    const side = busSide(memory, o.inFlight, 'memory');
    await side(o.warmup);
    fresh.push(await side(memEvents));
    await memory.close();
  }
  progress('bus', `MemoryBus, fresh: ${formatRounds(fresh)} ev/s`);
  rows.push({ group: 'bus', name: `MemoryBus publish→deliver, fresh bus`, unit: 'events/s', kernel: median(fresh), detail: `${memEvents.toLocaleString('en-US')} events/round, new bus each round; ${formatRounds(fresh)}` });

  const memory = new MemoryBus({ source: 'bench', metrics: metrics.busHooks });
  try {
    const side = busSide(memory, o.inFlight, 'memory');
    progress('bus', `MemoryBus: filling the log with ${MEMORY_LOG_LIMIT} events`);
    await side(MEMORY_LOG_LIMIT);
    const full: number[] = [];
    for (let i = 0; i < o.rounds; i++) full.push(await side(o.events));
    progress('bus', `MemoryBus, after ${MEMORY_LOG_LIMIT} events: ${formatRounds(full)} ev/s`);
    rows.push({ group: 'bus', name: `MemoryBus publish→deliver, after ${MEMORY_LOG_LIMIT / 1000}k events`, unit: 'events/s', kernel: median(full), detail: `${o.events.toLocaleString('en-US')} events/round on one bus that already stored ${MEMORY_LOG_LIMIT.toLocaleString('en-US')}; ${formatRounds(full)}` });
  } finally {
    await memory.close();
  }
  return rows;
}

if (import.meta.main) {
  const { printTable } = await import('./lib/table.ts');
  printTable(await runBus());
  process.exit(0);
}
