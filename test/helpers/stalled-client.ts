/**
 * A client of /api/v1/events that stops reading: a raw TCP socket that sends the request (SSE or WebSocket upgrade),
 * waits until the stream is open, then pauses, so the server meets TCP backpressure exactly as with a frozen client.
 * It can later resume and return every byte the server sent until it closed the connection.
 */
import { connect, type Socket } from 'node:net';

/** A paused client; `drain()` resumes it and resolves with what it read once the server has closed the connection. */
export interface StalledClient {
  socket: Socket;
  /** Bytes read before pausing (response head and the first frames). */
  head: Buffer;
  drain(): Promise<{ bytes: Buffer; reset: boolean }>;
  destroy(): void;
}

/**
 * Opens a stream at `path` on 127.0.0.1:`port` and pauses once `ready(bytesSoFar)` says it is open (default: the
 * response head has arrived). `headers` are extra request header lines; `poke` runs every 50 ms until then (e.g. publish
 * a warm-up event, for a transport that does not say when it has subscribed).
 */
export function openStalled(port: number, path: string, o: { websocket?: boolean; headers?: Record<string, string>; ready?: (b: Buffer) => boolean; poke?: () => void } = {}): Promise<StalledClient> {
  const extra = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const upgrade = o.websocket ? 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' : 'Accept: text/event-stream\r\n';
  const ready = o.ready ?? ((b: Buffer) => b.includes('\r\n\r\n'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closed = false;
    let reset = false;
    let opened = false;
    let onClosed: (() => void) | undefined;
    const poker = o.poke ? setInterval(o.poke, 50) : undefined;
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${upgrade}${extra}\r\n`));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opened) return;
      const head = Buffer.concat(chunks);
      if (!ready(head)) return;
      opened = true;
      clearInterval(poker);
      socket.pause();
      resolve({
        socket,
        head,
        drain: () =>
          new Promise((done) => {
            onClosed = () => done({ bytes: Buffer.concat(chunks), reset });
            if (closed) return onClosed();
            socket.resume();
          }),
        destroy: () => socket.destroy(),
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!opened) {
        clearInterval(poker);
        return reject(err);
      }
      reset = err.code === 'ECONNRESET';
    });
    socket.on('close', () => {
      closed = true;
      onClosed?.();
    });
  });
}

/** One parsed server-sent event (or comment). */
export interface ParsedSse {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** Parses the body of an SSE response (the part after the HTTP head); chunked framing is removed first. */
export function parseSse(raw: Buffer): ParsedSse[] {
  const text = unchunk(raw.subarray(raw.indexOf('\r\n\r\n') + 4)).toString('utf8');
  const out: ParsedSse[] = [];
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    const ev: ParsedSse = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) ev.comment = line.slice(1).trim();
      else if (line.startsWith('data: ')) ev.data = (ev.data === undefined ? '' : ev.data + '\n') + line.slice(6);
      else if (line.startsWith('id: ')) ev.id = line.slice(4);
      else if (line.startsWith('event: ')) ev.event = line.slice(7);
    }
    out.push(ev);
  }
  return out;
}

/** Removes HTTP/1.1 chunked framing; a truncated last chunk is kept as far as it goes. */
function unchunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < body.length) {
    const eol = body.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(body.subarray(i, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(eol + 2, Math.min(body.length, eol + 2 + size)));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** One WebSocket frame from the server (unmasked). */
export interface WsFrame {
  opcode: number;
  payload: Buffer;
}

/** Parses the frames after the 101 response head; a truncated last frame is dropped. */
export function parseWsFrames(raw: Buffer): WsFrame[] {
  let i = raw.indexOf('\r\n\r\n') + 4;
  const frames: WsFrame[] = [];
  while (i + 2 <= raw.length) {
    const opcode = raw[i]! & 0x0f;
    let len = raw[i + 1]! & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = raw.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(raw.readBigUInt64BE(at));
      at += 8;
    }
    if (at + len > raw.length) break;
    frames.push({ opcode, payload: raw.subarray(at, at + len) });
    i = at + len;
  }
  return frames;
}
