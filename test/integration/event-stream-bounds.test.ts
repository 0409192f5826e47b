/**
 * Issue 7 item 6: a client of /api/v1/events that stops reading must not grow the server's memory. Each stream holds
 * at most the configured events/bytes for it; past that the client gets a `gap` notice naming the last event id it was
 * sent (SSE) or a 1013 close naming it (WebSocket) and is disconnected, also when it never reads again.
 * A real Bun.serve on loopback and raw TCP sockets that stop reading; the memory bus feeds the streams.
 */
import { websocket } from 'hono/bun';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import { eventsRoutes } from '../../src/kernel/http/events-routes.ts';
import { createRouter } from '../../src/kernel/http/router.ts';
import { StreamStats, type StreamLimits } from '../../src/kernel/http/stream-limits.ts';
import { SLOW_CONSUMER_CLOSE } from '../../src/kernel/http/ws-stream.ts';
import { eventually } from '../helpers/async.ts';
import { openStalled, parseSse, parseWsFrames } from '../helpers/stalled-client.ts';

const limits: StreamLimits = { maxEvents: 40, maxBytes: 256 * 1024, closeGraceSeconds: 1 };
/** One event's data: 60 KB, as in the reproduction. */
const BIG = 'x'.repeat(60_000);
/** Enough 60 KB events to fill loopback's socket buffers (a few MB) and the stream's bound many times over. */
const FLOOD = 400;

const bus = new MemoryBus({ source: 'test' });
const stats = new StreamStats();
let server: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  const app = createRouter();
  app.use(async (c, next) => {
    c.set('principal', { name: 'test', scopes: new Set(['admin']) });
    await next();
  });
  app.route('/api/v1/events', eventsRoutes(bus, 'test', { limits, stats }));
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch, websocket });
});
// Each test measures the bytes held for its own stream: the streams of an earlier test must be gone.
beforeEach(async () => {
  await eventually('no stream left open', async () => (stats.open === 0 ? true : undefined));
});
afterAll(async () => {
  await server?.stop(true);
  await bus.close();
});

/** Publishes `n` big events on `type`, yielding to the event loop between them; returns the largest buffer seen. */
async function flood(type: string, n: number): Promise<{ ids: string[]; peakBuffered: number }> {
  const ids: string[] = [];
  let peakBuffered = 0;
  for (let i = 0; i < n; i++) {
    ids.push((await bus.publish(type, { i, pad: BIG })).id);
    peakBuffered = Math.max(peakBuffered, stats.bufferedBytes());
    await new Promise((r) => setImmediate(r));
  }
  return { ids, peakBuffered };
}

/** The buffered bytes a stream may reach: the bound plus one event (the one that finds the queue full is refused). */
const BOUND = limits.maxBytes + 70_000;

describe('a stalled SSE client', () => {
  it('is told the last id it was sent and disconnected, and the server never holds more than the bound for it', async () => {
    const before = stats.slowDisconnects;
    const client = await openStalled(server.port!, '/api/v1/events?pattern=slow.sse.>', { ready: (b) => b.includes(': subscribed') });
    const { ids, peakBuffered } = await flood('slow.sse.big', FLOOD);
    expect(peakBuffered).toBeLessThanOrEqual(BOUND);
    expect(stats.slowDisconnects).toBe(before + 1);

    const { bytes } = await client.drain();
    const frames = parseSse(bytes);
    const events = frames.filter((f) => f.id !== undefined);
    const gap = frames.find((f) => f.event === 'gap');
    expect(gap, 'a gap event').toBeDefined();
    expect(frames.at(-1)).toBe(gap);
    const notice = JSON.parse(gap!.data!) as { reason: string; lastEventId: string };
    expect(notice.reason).toBe('slow-consumer');
    // Everything up to the named id arrived, in order and without holes: Last-Event-ID resumes exactly there.
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(FLOOD);
    expect(notice.lastEventId).toBe(events.at(-1)!.id);
    expect(events.map((e) => e.id)).toEqual(ids.slice(0, events.length));
    await eventually('the stream is unregistered', async () => (stats.open === 0 ? true : undefined));
  });

  it('is cut by the server after the grace period even if it never reads again', async () => {
    const client = await openStalled(server.port!, '/api/v1/events?pattern=frozen.sse.>', { ready: (b) => b.includes(': subscribed') });
    const { peakBuffered } = await flood('frozen.sse.big', 200);
    expect(peakBuffered).toBeLessThanOrEqual(BOUND);
    // Bun's idle timeout, turned back on with the grace period, closes the connection the client never drains,
    // and with it goes what the stream still held for it.
    await eventually('the server closed the request', async () => (server.pendingRequests === 0 && stats.open === 0 ? true : undefined));
    client.destroy();
  });

  it('keeps a client that reads as fast as events come, with the same bounds', async () => {
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/events?pattern=fast.sse.>`, { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })().catch(() => {});
    await eventually('subscribed', async () => (text.includes(': subscribed') ? true : undefined));
    const before = stats.slowDisconnects;
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 20; i++) await bus.publish('fast.sse.big', { i: batch * 20 + i, pad: BIG });
      await eventually('batch read', async () => (text.split('\nid: ').length - 1 >= (batch + 1) * 20 ? true : undefined));
    }
    expect(text).not.toContain('event: gap');
    expect(stats.slowDisconnects).toBe(before);
    controller.abort();
    await reading;
  });
});

describe('a stalled WebSocket client', () => {
  /** Publishes small events until the (asynchronous) subscription delivers one, so the client is known subscribed. */
  const subscribed = (type: string) => ({ websocket: true, poke: () => void bus.publish(type, { warmup: true }), ready: (b: Buffer) => b.includes('warmup') });

  it('is closed with 1013 naming the last event id it was sent, and the server holds at most the bound', async () => {
    const before = stats.slowDisconnects;
    const client = await openStalled(server.port!, '/api/v1/events?pattern=slow.ws.>', subscribed('slow.ws.warmup'));
    const { ids, peakBuffered } = await flood('slow.ws.big', FLOOD);
    expect(peakBuffered).toBeLessThanOrEqual(BOUND);
    expect(stats.slowDisconnects).toBe(before + 1);

    const { bytes } = await client.drain();
    const frames = parseWsFrames(bytes);
    const texts = frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString()) as { id: string; type: string });
    const close = frames.find((f) => f.opcode === 8);
    expect(close, 'a close frame').toBeDefined();
    expect(close!.payload.readUInt16BE(0)).toBe(SLOW_CONSUMER_CLOSE);
    const big = texts.filter((t) => t.type === 'slow.ws.big');
    expect(big.length).toBeLessThan(FLOOD);
    expect(close!.payload.subarray(2).toString()).toBe(`too slow; last event id ${texts.at(-1)!.id}`);
    expect(big.map((t) => t.id)).toEqual(ids.slice(0, big.length));
  });

  it('is terminated after the grace period if it never reads the close frame', async () => {
    const client = await openStalled(server.port!, '/api/v1/events?pattern=frozen.ws.>', subscribed('frozen.ws.warmup'));
    await flood('frozen.ws.big', 200);
    await eventually('the server dropped the socket', async () => (server.pendingWebSockets === 0 && stats.open === 0 ? true : undefined));
    client.destroy();
  });
});
