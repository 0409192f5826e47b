/** The EventBus contract: every adapter (memory, NATS) must pass these tests unchanged. */
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBus, EventEnvelope, Subscription } from '../../src/kernel/bus/port.ts';
import { Conflict, Invalid, Unavailable } from '../../src/kernel/errors.ts';
import { sleep } from '../../src/kernel/time.ts';
import { rejection } from '../helpers/async.ts';
import { eventually } from '../kit/index.ts';

/** What a factory hands the suite: a fresh, isolated bus; `newBus` opens another bus on the same stream (another process). */
export interface BusFixture {
  bus: EventBus;
  cleanup: () => Promise<void>;
  newBus?: () => Promise<EventBus>;
}

/** Short ack wait so redelivery tests finish quickly. */
const ACK_WAIT_MS = 1_000;
/** Long enough for any redelivery that should NOT happen to have happened (ack wait plus backoff). */
const QUIET_MS = ACK_WAIT_MS + 700;

/** Collects delivered events and lets a test wait for a count without polling. */
export class Collector {
  readonly events: EventEnvelope[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  readonly push = (e: EventEnvelope): void => {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => (this.events.length >= w.n ? (w.resolve(), false) : true));
  };

  /** Resolves once at least `n` events arrived; fails with what did arrive after `timeoutMs`. */
  async atLeast(n: number, timeoutMs = 15_000): Promise<EventEnvelope[]> {
    if (this.events.length < n) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ n, resolve })),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`expected ${n} events, got ${this.events.length}: ${this.types()}`)), timeoutMs))),
      ]).finally(() => clearTimeout(timer));
    }
    return this.events;
  }

  get data(): unknown[] {
    return this.events.map((e) => e.data);
  }

  types(): string {
    return this.events.map((e) => e.type).join(', ');
  }
}


/** Registers the EventBus contract tests for one adapter; `factory` is called once per test. */
export function busContract(name: string, factory: () => Promise<BusFixture>): void {
  describe(`EventBus contract: ${name}`, () => {
    let fx: BusFixture | undefined;
    const subs: Subscription[] = [];

    async function setup(): Promise<EventBus> {
      fx = await factory();
      return fx.bus;
    }
    async function track(s: Promise<Subscription>): Promise<Subscription> {
      const sub = await s;
      subs.push(sub);
      return sub;
    }
    afterEach(async () => {
      for (const s of subs.splice(0)) await s.unsubscribe().catch(() => {});
      await fx?.cleanup();
      fx = undefined;
    });

    it('publishes a complete envelope that subscribers receive unchanged', async () => {
      const bus = await setup();
      const got = new Collector();
      await track(bus.subscribe('shop.order.*', got.push));
      const before = Date.now();
      const a = await bus.publish('shop.order.created', { orderId: 7, items: ['x'] }, { correlationId: 'corr-1' });
      const b = await bus.publish('shop.order.paid', null, { source: 'billing', id: 'custom-id-1' });
      await got.atLeast(2);
      expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(a.type).toBe('shop.order.created');
      expect(new Date(a.time).toISOString()).toBe(a.time);
      expect(Math.abs(Date.parse(a.time) - before)).toBeLessThan(60_000);
      expect(a.source.length).toBeGreaterThan(0);
      expect(a.correlationId).toBe('corr-1');
      expect(a.data).toEqual({ orderId: 7, items: ['x'] });
      expect(b).toMatchObject({ id: 'custom-id-1', source: 'billing', data: null });
      expect(b.correlationId).toBeUndefined();
      expect(got.events).toEqual([a, b]);
    });

    it("'*' matches exactly one token", async () => {
      const bus = await setup();
      const got = new Collector();
      await track(bus.subscribe('shop.*', got.push));
      for (const t of ['shop', 'shop.order.created', 'other.x', 'shopping.x', 'shop.x', 'shop.end']) await bus.publish(t, {});
      // Delivery is ordered, so once the last matching event is in, any wrong match would be too.
      await got.atLeast(2);
      expect(got.events.map((e) => e.type)).toEqual(['shop.x', 'shop.end']);
    });

    it("'>' matches one or more remaining tokens", async () => {
      const bus = await setup();
      const got = new Collector();
      await track(bus.subscribe('shop.>', got.push));
      for (const t of ['shop', 'shopping.x', 'other.shop.x', 'shop.a', 'shop.a.b.c', 'shop.end']) await bus.publish(t, {});
      await got.atLeast(3);
      expect(got.events.map((e) => e.type)).toEqual(['shop.a', 'shop.a.b.c', 'shop.end']);
    });

    it('fans every event out to every subscriber', async () => {
      const bus = await setup();
      const one = new Collector();
      const two = new Collector();
      await track(bus.subscribe('fan.>', one.push));
      await track(bus.subscribe('fan.*', two.push));
      const e = await bus.publish('fan.out', { n: 1 });
      await one.atLeast(1);
      await two.atLeast(1);
      expect(one.events.map((x) => x.id)).toEqual([e.id]);
      expect(two.events.map((x) => x.id)).toEqual([e.id]);
    });

    it('stops delivering after unsubscribe', async () => {
      const bus = await setup();
      const gone = new Collector();
      const stays = new Collector();
      const sub = await bus.subscribe('unsub.*', gone.push);
      await track(bus.subscribe('unsub.*', stays.push));
      await bus.publish('unsub.a', 1);
      await gone.atLeast(1);
      await sub.unsubscribe();
      await bus.publish('unsub.b', 2);
      await stays.atLeast(2);
      await sleep(200);
      expect(gone.data).toEqual([1]);
    });

    it('gives each event to exactly one member of a queue group', async () => {
      const bus = await setup();
      const all = new Collector();
      const members = [new Collector(), new Collector()];
      for (const m of members) {
        await track(bus.subscribe('work.*', (e) => (m.push(e), all.push(e)), { queueGroup: 'workers' }));
      }
      const observer = new Collector();
      await track(bus.subscribe('work.*', observer.push));
      const n = 20;
      for (let i = 0; i < n; i++) await bus.publish('work.item', i);
      await all.atLeast(n);
      await observer.atLeast(n);
      await sleep(300);
      expect(all.events).toHaveLength(n);
      expect(new Set(all.events.map((e) => e.id)).size).toBe(n);
      for (const m of members) expect(m.events.length).toBeGreaterThan(0);
      // A queue group does not take events from ordinary subscribers.
      expect(observer.data).toEqual([...Array(n).keys()]);
    });

    it("starts a new durable at 'all', 'new' or a stream sequence", async () => {
      const bus = await setup();
      for (const i of [1, 2, 3]) await bus.publish('dur.item', i);
      const all = new Collector();
      const fresh = new Collector();
      const fromSeq = new Collector();
      await track(bus.durable({ name: 'd_all', pattern: 'dur.*', start: 'all', ackWaitMs: ACK_WAIT_MS }, all.push));
      await track(bus.durable({ name: 'd_new', pattern: 'dur.*', start: 'new', ackWaitMs: ACK_WAIT_MS }, fresh.push));
      await track(bus.durable({ name: 'd_seq', pattern: 'dur.*', start: { sequence: 2 }, ackWaitMs: ACK_WAIT_MS }, fromSeq.push));
      await all.atLeast(3);
      await fromSeq.atLeast(2);
      await bus.publish('dur.item', 4);
      await all.atLeast(4);
      await fresh.atLeast(1);
      await fromSeq.atLeast(3);
      expect(all.data).toEqual([1, 2, 3, 4]);
      expect(fresh.data).toEqual([4]);
      expect(fromSeq.data).toEqual([2, 3, 4]);
    });

    it('starts a new durable at a point in time', async () => {
      const bus = await setup();
      await bus.publish('when.item', 'before');
      // Separate the timestamps clearly; the start is compared with the stored time of each event.
      await sleep(30);
      const t = new Date();
      await sleep(30);
      await bus.publish('when.item', 'after-1');
      await bus.publish('when.item', 'after-2');
      const got = new Collector();
      await track(bus.durable({ name: 'd_time', pattern: 'when.>', start: { time: t }, ackWaitMs: ACK_WAIT_MS }, got.push));
      await got.atLeast(2);
      expect(got.data).toEqual(['after-1', 'after-2']);
    });

    it('stores a republished envelope id only once in the durable stream', async () => {
      const bus = await setup();
      await bus.publish('dedup.item', 'first', { id: 'same-id' });
      await bus.publish('dedup.item', 'again', { id: 'same-id' });
      await bus.publish('dedup.item', 'next');
      const got = new Collector();
      await track(bus.durable({ name: 'd_dedup', pattern: 'dedup.item', start: 'all', ackWaitMs: ACK_WAIT_MS }, got.push));
      await got.atLeast(2);
      expect(got.data).toEqual(['first', 'next']);
    });

    it('does not redeliver acknowledged events to a later subscriber of the same durable', async () => {
      const bus = await setup();
      const first = new Collector();
      const opts = { name: 'd_ack', pattern: 'ack.*', ackWaitMs: ACK_WAIT_MS };
      const sub = await bus.durable(opts, first.push);
      for (const i of [1, 2, 3]) await bus.publish('ack.item', i);
      await first.atLeast(3);
      await sub.unsubscribe();
      await bus.publish('ack.item', 4);
      const second = new Collector();
      await track(bus.durable(opts, second.push));
      await second.atLeast(1);
      await sleep(QUIET_MS);
      expect(first.data).toEqual([1, 2, 3]);
      expect(second.data).toEqual([4]);
    });

    it('redelivers a durable event whose handler threw, until it succeeds', async () => {
      const bus = await setup();
      const got = new Collector();
      await track(
        bus.durable({ name: 'd_throw', pattern: 'throw.*', ackWaitMs: ACK_WAIT_MS }, (e) => {
          got.push(e);
          if (got.events.length === 1) throw new Error('first attempt fails');
        }),
      );
      const e = await bus.publish('throw.item', 'x');
      await got.atLeast(2);
      await sleep(QUIET_MS);
      expect(got.events.map((x) => x.id)).toEqual([e.id, e.id]);
    });

    it('stops redelivering after maxDeliver attempts', async () => {
      const bus = await setup();
      const got = new Collector();
      await track(
        bus.durable({ name: 'd_max', pattern: 'max.*', ackWaitMs: ACK_WAIT_MS, maxDeliver: 2 }, (e) => {
          got.push(e);
          throw new Error('always fails');
        }),
      );
      const e = await bus.publish('max.item', 'x');
      await got.atLeast(2);
      await sleep(QUIET_MS);
      expect(got.events.map((x) => x.id)).toEqual([e.id, e.id]);
    });

    it('redelivers an event whose subscriber went away before acking (a crash) to the next subscriber', async () => {
      const bus = await setup();
      const opts = { name: 'd_crash', pattern: 'crash.*', ackWaitMs: ACK_WAIT_MS };
      const first = new Collector();
      let release: () => void = () => {};
      const blocked = new Promise<void>((resolve) => (release = resolve));
      const sub = await bus.durable(opts, async (e) => {
        first.push(e);
        await blocked;
      });
      try {
        const e = await bus.publish('crash.item', 'work');
        await first.atLeast(1);
        // The handler is still blocked: unsubscribing must not wait for it and must not ack it.
        await sub.unsubscribe();
        const other = fx!.newBus ? await fx!.newBus() : bus;
        const second = new Collector();
        await track(other.durable(opts, second.push));
        await second.atLeast(1);
        expect(second.events.map((x) => x.id)).toEqual([e.id]);
        release();
        await sleep(QUIET_MS);
        expect(second.events.map((x) => x.id)).toEqual([e.id]);
        expect(first.events).toHaveLength(1);
      } finally {
        release();
      }
    });

    it('splits the events of one durable between its subscribers, none to both', async () => {
      const bus = await setup();
      const opts = { name: 'd_share', pattern: 'share.*', ackWaitMs: ACK_WAIT_MS };
      const all = new Collector();
      const members = [new Collector(), new Collector()];
      for (const m of members) {
        await track(
          bus.durable(opts, async (e) => {
            m.push(e);
            all.push(e);
            // Slow enough that the other subscriber gets a turn.
            await sleep(10);
          }),
        );
      }
      const n = 20;
      for (let i = 0; i < n; i++) await bus.publish('share.item', i);
      await all.atLeast(n);
      await sleep(QUIET_MS);
      expect(all.events).toHaveLength(n);
      expect(new Set(all.events.map((e) => e.id)).size).toBe(n);
      for (const m of members) expect(m.events.length).toBeGreaterThan(0);
    });

    it('delivers in publication order per subscription', async () => {
      const bus = await setup();
      const eph = new Collector();
      const dur = new Collector();
      await track(bus.subscribe('ord.>', async (e) => {
        // An uneven handler must not reorder deliveries.
        if ((e.data as number) % 3 === 0) await sleep(2);
        eph.push(e);
      }));
      await track(bus.durable({ name: 'd_ord', pattern: 'ord.>', ackWaitMs: ACK_WAIT_MS }, dur.push));
      const n = 30;
      for (let i = 0; i < n; i++) await bus.publish(i % 2 ? 'ord.a' : 'ord.b.c', i);
      await eph.atLeast(n);
      await dur.atLeast(n);
      expect(eph.data).toEqual([...Array(n).keys()]);
      expect(dur.data).toEqual([...Array(n).keys()]);
    });

    it('routes an event on its type plus routing tokens, keeping the envelope type', async () => {
      const bus = await setup();
      const exact = new Collector();
      const routed = new Collector();
      const onlyA = new Collector();
      const durA = new Collector();
      await track(bus.subscribe('rt.changed', exact.push));
      await track(bus.subscribe('rt.changed.>', routed.push));
      await track(bus.subscribe('rt.changed.a.*', onlyA.push));
      await track(bus.durable({ name: 'd_route', pattern: 'rt.changed.a.x', ackWaitMs: ACK_WAIT_MS }, durA.push));
      await bus.publish('rt.changed', 1, { route: ['a', 'x'] });
      await bus.publish('rt.changed', 2, { route: ['b', 'x'] });
      await bus.publish('rt.changed', 3, { route: ['a', 'y'] });
      await bus.publish('rt.changed', 4);
      await routed.atLeast(3);
      await onlyA.atLeast(2);
      await durA.atLeast(1);
      await exact.atLeast(1);
      await sleep(200);
      expect(routed.data).toEqual([1, 2, 3]);
      expect(routed.events.every((e) => e.type === 'rt.changed')).toBe(true);
      expect(onlyA.data).toEqual([1, 3]);
      expect(durA.data).toEqual([1]);
      expect(durA.events[0]!.type).toBe('rt.changed');
      expect(exact.data).toEqual([4]);
      for (const bad of [['a b'], ['*'], ['>'], [''], ['a.b']]) {
        expect(await rejection(bus.publish('rt.changed', 0, { route: bad })), `route ${JSON.stringify(bad)}`).toBeInstanceOf(Invalid);
      }
    });

    it('hands one durable subscriber up to `concurrency` events at once, and no more', async () => {
      const bus = await setup();
      const concurrency = 4;
      let inFlight = 0;
      let peak = 0;
      let release!: () => void;
      const full = new Promise<void>((r) => (release = r));
      const done = new Collector();
      await track(
        bus.durable({ name: 'd_conc', pattern: 'conc.*', ackWaitMs: 10_000, concurrency }, async (e) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          // Every handler waits until `concurrency` of them run at the same time: with a serial subscriber the
          // first one would wait forever and the test would time out.
          if (inFlight === concurrency) release();
          await full;
          inFlight--;
          done.push(e);
        }),
      );
      const n = 12;
      for (let i = 0; i < n; i++) await bus.publish('conc.item', i);
      await done.atLeast(n);
      await sleep(QUIET_MS);
      expect(peak).toBe(concurrency);
      expect(done.events).toHaveLength(n);
      expect(new Set(done.data).size).toBe(n);
      expect(await rejection(bus.durable({ name: 'd_conc_bad', pattern: 'conc.*', concurrency: 0 }, () => {}))).toBeInstanceOf(Invalid);
    });

    it('unsubscribing a concurrent durable subscriber keeps the events it finished (acked) and hands back the rest, none lost', async () => {
      const bus = await setup();
      const opts = { name: 'd_conc_stop', pattern: 'cstop.*', ackWaitMs: ACK_WAIT_MS, concurrency: 4 };
      const started = new Collector();
      const finished = new Collector();
      let release: () => void = () => {};
      const blocked = new Promise<void>((resolve) => (release = resolve));
      const sub = await bus.durable(opts, async (e) => {
        started.push(e);
        // The first two finish at once; the others hold their slots until the end of the test.
        if ((e.data as number) >= 2) await blocked;
        finished.push(e);
      });
      try {
        for (let i = 0; i < 8; i++) await bus.publish('cstop.item', i);
        await started.atLeast(6);
        await finished.atLeast(2);
        await sub.unsubscribe();
        const other = fx!.newBus ? await fx!.newBus() : bus;
        const second = new Collector();
        await track(other.durable(opts, second.push));
        await eventually(() => new Set(second.data).size >= 6, { timeout: 15_000, interval: 20, what: 'six events redelivered to the second consumer' });
        release();
        await sleep(QUIET_MS);
        expect(finished.data.slice(0, 2).sort()).toEqual([0, 1]);
        // At least once: NATS 2.9 may hand an event given back at unsubscribe to the next subscriber twice.
        expect([...new Set(second.data)].sort()).toEqual([2, 3, 4, 5, 6, 7]);
      } finally {
        release();
      }
    });

    it('rejects malformed types, patterns and names with Invalid', async () => {
      const bus = await setup();
      const noop = () => {};
      for (const p of ['', 'a..b', 'a.>.b', 'a b', '.a', 'a.', 'a*']) {
        expect(await rejection(bus.subscribe(p, noop)), `pattern ${JSON.stringify(p)}`).toBeInstanceOf(Invalid);
      }
      expect(await rejection(bus.durable({ name: 'd_bad', pattern: 'a b' }, noop))).toBeInstanceOf(Invalid);
      expect(await rejection(bus.durable({ name: 'bad.name', pattern: 'a.b' }, noop))).toBeInstanceOf(Invalid);
      expect(await rejection(bus.subscribe('a.b', noop, { queueGroup: 'a b' }))).toBeInstanceOf(Invalid);
      for (const t of ['', 'a.*', 'a.>', 'a..b', 'a b']) {
        expect(await rejection(bus.publish(t, {})), `type ${JSON.stringify(t)}`).toBeInstanceOf(Invalid);
      }
      expect(await rejection(bus.publish('a.b', { n: 1n }))).toBeInstanceOf(Invalid);
    });

    it('refuses to reuse a durable name for another pattern', async () => {
      const bus = await setup();
      await track(bus.durable({ name: 'd_same', pattern: 'one.>', ackWaitMs: ACK_WAIT_MS }, () => {}));
      expect(await rejection(bus.durable({ name: 'd_same', pattern: 'two.>', ackWaitMs: ACK_WAIT_MS }, () => {}))).toBeInstanceOf(Conflict);
    });

    it("replaces a durable whose pattern changed when asked to ('replace'), and reads only the new pattern", async () => {
      const bus = await setup();
      const old = await bus.durable({ name: 'd_repl', pattern: 'repl.old.>', ackWaitMs: ACK_WAIT_MS }, () => {});
      await old.unsubscribe();
      const got = new Collector();
      await track(bus.durable({ name: 'd_repl', pattern: 'repl.new.>', ackWaitMs: ACK_WAIT_MS, onPatternChange: 'replace' }, got.push));
      await bus.publish('repl.old.x', 1);
      await bus.publish('repl.new.x', 2);
      await got.atLeast(1);
      await sleep(300);
      expect(got.data).toEqual([2]);
      // Asking again with the same pattern keeps it (no second replacement, nothing lost).
      expect(await rejection(bus.durable({ name: 'd_repl', pattern: 'repl.other.>', ackWaitMs: ACK_WAIT_MS }, () => {}))).toBeInstanceOf(Conflict);
    });

    it('answers ping while open and refuses work after close', async () => {
      const bus = await setup();
      await bus.ping();
      await bus.close();
      expect(await rejection(bus.ping())).toBeInstanceOf(Unavailable);
      expect(await rejection(bus.publish('a.b', {}))).toBeInstanceOf(Unavailable);
    });
  });
}
