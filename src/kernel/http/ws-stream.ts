/**
 * Bounded sending of events to one WebSocket client. Bun queues what the socket cannot take yet; a client that stops
 * reading would make that queue grow (Bun's own limit, 16 MB, then drops messages silently). Past the stream limits the
 * client is closed with SLOW_CONSUMER_CLOSE and a reason naming the last event id it was sent, so that it reconnects
 * from there; one that does not even read the close frame is cut after the grace period.
 */
import type { WSContext } from 'hono/ws';
import { DEFAULT_STREAM_LIMITS, type StreamLimits, type StreamStats } from './stream-limits.ts';

/** Close code for a client that fell behind: 1013 "Try Again Later" (RFC 6455 registry): reconnect, then resume. */
export const SLOW_CONSUMER_CLOSE = 1013;

/** What the kernel needs of Bun's ServerWebSocket (hono's WSContext.raw under Bun). */
interface BunSocket {
  send(data: string): number;
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** A bounded sender for one socket. */
export interface WsStream {
  /** Sends one event (its id names where a reconnecting client resumes); ignored once the stream has ended. */
  send(id: string, text: string): void;
  /** Call from onClose: stops tracking and the grace timer. */
  closed(): void;
}

/** Wraps `ws`; `onSlow` runs once when the client falls behind (unsubscribe there). */
export function wsStream(ws: WSContext, o: { limits?: StreamLimits; stats?: StreamStats; onSlow: () => void }): WsStream {
  const limits = o.limits ?? DEFAULT_STREAM_LIMITS;
  const raw = ws.raw as BunSocket | undefined;
  let ended = false;
  let backlog = 0;
  let lastId: string | null = null;
  let cut: ReturnType<typeof setTimeout> | undefined;
  const untrack = o.stats?.track('websocket', () => (raw && !ended ? raw.getBufferedAmount() : 0));

  const fallBehind = () => {
    ended = true;
    o.stats?.slowDisconnect('websocket');
    o.onSlow();
    // A close reason is at most 123 bytes; an event id is 36.
    ws.close(SLOW_CONSUMER_CLOSE, `too slow; last event id ${lastId ?? 'none'}`.slice(0, 123));
    cut = setTimeout(() => raw?.terminate(), limits.closeGraceSeconds * 1000);
    (cut as { unref?: () => void }).unref?.();
  };

  return {
    send(id, text) {
      if (ended) return;
      if (!raw) {
        // Not under Bun (no backpressure to read): send as is.
        ws.send(text);
        lastId = id;
        return;
      }
      const buffered = raw.getBufferedAmount();
      if (buffered === 0) backlog = 0;
      // One event larger than maxBytes still goes to a client that keeps up (nothing buffered).
      if (buffered > 0 && (backlog >= limits.maxEvents || buffered + text.length > limits.maxBytes)) return fallBehind();
      const r = raw.send(text);
      // 0: dropped (Bun's own backpressure limit or closing): the client missed this one, so it must resume before it.
      if (r === 0) return fallBehind();
      lastId = id;
      if (r < 0) backlog++;
    },
    closed() {
      ended = true;
      clearTimeout(cut);
      untrack?.();
    },
  };
}
