/**
 * The kernel's server-sent-events loop, used by every SSE route: subscribe, hold what the client has not read yet in a
 * bounded queue, send keep-alives on a quiet stream, stop on abort. The response body is a pull stream, so Bun asks for
 * the next frame only when the socket can take it; a client that stops reading therefore fills the queue (not the
 * server's memory) and, past the stream limits, gets a `gap` event naming the last event id it was sent and is
 * disconnected, to reconnect with Last-Event-ID.
 */
import type { Context } from 'hono';
import { holdConnection, releaseConnection } from './hold-connection.ts';
import { DEFAULT_STREAM_LIMITS, type StreamLimits, type StreamStats } from './stream-limits.ts';

/** One server-sent event. `data` may hold newlines (each line becomes a `data:` line). */
export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
}

/** Stops a subscription; may be async. */
export type StopFn = () => void | Promise<void>;

/** What a route gives the loop. */
export interface SseOptions {
  /** Starts delivery: call `send` for each frame, in order; resolve with the function that stops it. */
  subscribe(send: (frame: SseFrame) => void): Promise<StopFn>;
  limits?: StreamLimits;
  stats?: StreamStats;
  /** A comment line on a quiet stream this often: well under the idle timeouts of Bun (10 s) and common proxies. */
  keepAliveMs?: number;
}

/** What the `gap` event's data says: why the stream ends and the last event id the client was sent. */
export interface SseGap {
  reason: 'slow-consumer';
  lastEventId: string | null;
  maxEvents: number;
  maxBytes: number;
}

/** The default keep-alive period (see SseOptions.keepAliveMs). */
export const SSE_KEEP_ALIVE_MS = 5_000;

const encoder = new TextEncoder();
const SUBSCRIBED = encoder.encode(': subscribed\n\n');
const KEEP_ALIVE = encoder.encode(': keep-alive\n\n');

/** The wire form of a frame. Ids and event names must be one line; data lines are split as the spec requires. */
export function formatSse(frame: SseFrame): string {
  let out = '';
  if (frame.event !== undefined) out += `event: ${oneLine(frame.event, 'event')}\n`;
  for (const line of frame.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  if (frame.id !== undefined) out += `id: ${oneLine(frame.id, 'id')}\n`;
  return out + '\n';
}

function oneLine(v: string, field: string): string {
  if (/[\r\n]/.test(v)) throw new Error(`SSE ${field} must not contain a line break`);
  return v;
}

interface Queued {
  bytes: Uint8Array;
  /** The stream ends after this frame (the gap notice). */
  last?: boolean;
}

/** Answers the request with an SSE stream fed by `o.subscribe`, bounded by `o.limits`. */
export function sseResponse(c: Context, o: SseOptions): Response {
  const limits = o.limits ?? DEFAULT_STREAM_LIMITS;
  const keepAliveMs = o.keepAliveMs ?? SSE_KEEP_ALIVE_MS;
  const queue: Queued[] = [];
  let queuedBytes = 0;
  let lastId: string | null = null;
  let state: 'open' | 'ending' | 'done' = 'open';
  let stop: StopFn | undefined;
  let wake: (() => void) | undefined;
  const untrack = o.stats?.track('sse', () => queuedBytes);

  const unsubscribe = () => {
    const s = stop;
    stop = undefined;
    if (s) void Promise.resolve(s()).catch(() => {});
  };
  const finish = () => {
    if (state === 'done') return;
    state = 'done';
    unsubscribe();
    untrack?.();
    queue.length = 0;
    queuedBytes = 0;
    wake?.();
  };

  const send = (frame: SseFrame) => {
    if (state !== 'open') return;
    const bytes = encoder.encode(formatSse(frame));
    if (queue.length > 0 && (queue.length >= limits.maxEvents || queuedBytes + bytes.length > limits.maxBytes)) return fallBehind();
    queue.push({ bytes });
    queuedBytes += bytes.length;
    if (frame.id !== undefined) lastId = frame.id;
    wake?.();
  };

  // The client is told where it stopped (after everything it was sent) and then disconnected; a client that reads
  // nothing more is cut by Bun's idle timeout, which the stream had turned off.
  const fallBehind = () => {
    state = 'ending';
    unsubscribe();
    o.stats?.slowDisconnect('sse');
    const gap: SseGap = { reason: 'slow-consumer', lastEventId: lastId, maxEvents: limits.maxEvents, maxBytes: limits.maxBytes };
    const note = `: too slow: more than ${limits.maxEvents} events or ${limits.maxBytes} bytes waiting; reconnect with Last-Event-ID\n`;
    const bytes = encoder.encode(note + formatSse({ event: 'gap', data: JSON.stringify(gap) }));
    queue.push({ bytes, last: true });
    queuedBytes += bytes.length;
    releaseConnection(c, limits.closeGraceSeconds);
    wake?.();
  };

  /** Resolves when a frame is queued or the stream ends (true), or after the keep-alive period (false). */
  const waitForFrame = () =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), keepAliveMs);
      wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    }).finally(() => {
      wake = undefined;
    });

  const isDone = () => state === 'done';
  let started = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          const s = await o.subscribe(send);
          if (state === 'done') return void Promise.resolve(s()).catch(() => {});
          stop = s;
          if (state === 'ending') unsubscribe();
          // A comment line first, so clients (and proxies) see the stream is open and subscribed before any event.
          return controller.enqueue(SUBSCRIBED);
        }
        for (;;) {
          if (state === 'done') return;
          const next = queue.shift();
          if (next) {
            queuedBytes -= next.bytes.length;
            controller.enqueue(next.bytes);
            if (next.last) {
              controller.close();
              finish();
            }
            return;
          }
          const woke = await waitForFrame();
          // The client may have gone (cancel) while this pull waited.
          if (isDone()) return;
          if (!woke) return controller.enqueue(KEEP_ALIVE);
        }
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 0 },
  );
  // The stream bounds its own wait (keep-alives, the gap notice); Bun's idle timeout would cut a quiet one.
  holdConnection(c);
  // Through the context, so the headers the shell set (request id, rate limit) stay on the response.
  return c.body(body, 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
}
