/**
 * Bounds of one live event stream (SSE or WebSocket). A client that stops reading must not make the server hold
 * events for it without end: past these bounds it is told where it stopped and disconnected, and reconnects.
 */
import { Gauge, Counter, type Registry } from 'prom-client';

/** How much one stream may hold for a client that reads slower than events arrive. */
export interface StreamLimits {
  /** Events waiting for the client, at most. */
  maxEvents: number;
  /** Bytes waiting for the client, at most (one event larger than this still goes to a client that keeps up). */
  maxBytes: number;
  /** After the notice, a client that reads nothing for this long is cut off by the server. */
  closeGraceSeconds: number;
}

/** Defaults: a console page or a tool that keeps up never comes near them; 100 stalled clients hold ≤ 100 MiB. */
export const DEFAULT_STREAM_LIMITS: StreamLimits = Object.freeze({ maxEvents: 1_000, maxBytes: 1_048_576, closeGraceSeconds: 10 });

/** The transports of /api/v1/events; a metric label. */
export type StreamTransport = 'sse' | 'websocket';

/** The live streams of one process, for /metrics and for tests that check the bound. */
export class StreamStats {
  private readonly live = new Map<object, { transport: StreamTransport; buffered: () => number }>();
  private readonly slowCut?: Counter<'transport'>;

  constructor(registry?: Registry) {
    if (!registry) return;
    const live = this.live;
    new Gauge({
      name: 'event_streams_open',
      help: 'Open event streams (SSE and WebSocket) on /api/v1/events',
      labelNames: ['transport'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const t of ['sse', 'websocket'] as const) this.set({ transport: t }, [...live.values()].filter((s) => s.transport === t).length);
      },
    });
    new Gauge({
      name: 'event_stream_buffered_bytes',
      help: 'Bytes the server holds for event-stream clients that have not read them yet',
      labelNames: ['transport'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const t of ['sse', 'websocket'] as const) this.set({ transport: t }, [...live.values()].filter((s) => s.transport === t).reduce((n, s) => n + s.buffered(), 0));
      },
    });
    this.slowCut = new Counter({
      name: 'event_stream_slow_disconnects_total',
      help: 'Event-stream clients disconnected because they fell further behind than the stream limits',
      labelNames: ['transport'] as const,
      registers: [registry],
    });
  }

  /** Registers a stream; `buffered` reports the bytes it holds now. Returns the function that unregisters it. */
  track(transport: StreamTransport, buffered: () => number): () => void {
    const key = {};
    this.live.set(key, { transport, buffered });
    return () => {
      this.live.delete(key);
    };
  }

  /** Counts a client cut off for being too slow. */
  slowDisconnect(transport: StreamTransport): void {
    this.slowCut?.inc({ transport });
    this.slowDisconnects++;
  }

  /** Clients cut off for being too slow since the process started. */
  slowDisconnects = 0;

  /** Open streams now. */
  get open(): number {
    return this.live.size;
  }

  /** Bytes all open streams hold now. */
  bufferedBytes(): number {
    let n = 0;
    for (const s of this.live.values()) n += s.buffered();
    return n;
  }
}

const perRegistry = new WeakMap<Registry, StreamStats>();

/** The one StreamStats of a registry (an app built twice on one registry, as tests do, shares it). */
export function streamStatsOf(registry: Registry): StreamStats {
  let s = perRegistry.get(registry);
  if (!s) perRegistry.set(registry, (s = new StreamStats(registry)));
  return s;
}
