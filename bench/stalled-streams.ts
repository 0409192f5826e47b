/**
 * `bun bench/stalled-streams.ts [clients] [events] [kib]`: server memory with stalled event-stream clients (issue 7
 * item 6). An embedded `capstan serve` child gets N clients on /api/v1/events that connect and then never read
 * (raw sockets, paused: the kernel's receive buffer fills, then the server's writes back up), once over SSE and once
 * over WebSocket; then E events of K KiB each are published through POST /api/v1/events. The baseline is the same
 * publishing with no client at all, in the same run. Reported: the server's RSS growth (VmRSS from /proc, after a
 * settle pause) and how many stalled clients the server cut (their sockets closed by the other side).
 */
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, tempDir, type ServerProcess } from '../test/helpers/server-process.ts';

const CLIENTS = Number(process.argv[2] ?? 100);
const EVENTS = Number(process.argv[3] ?? 3000);
const KIB = Number(process.argv[4] ?? 60);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/** The value of `name{transport="<transport>"}` in a Prometheus text page (0 when absent). */
function metricValue(text: string, name: string, transport: string): number {
  const m = new RegExp(`^${name}\\{[^}]*transport="${transport}"[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client that sends its request (SSE GET or WebSocket upgrade) and never reads what comes back. */
function stalledClient(url: URL, kind: 'sse' | 'ws'): Promise<{ socket: Socket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const socket = connect(Number(url.port), url.hostname, () => {
      const path = '/api/v1/events?pattern=slow.>';
      const head =
        kind === 'sse'
          ? `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`
          : `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')}\r\n\r\n`;
      socket.write(head);
      // Read the first bytes (the response head) so the stream is known to be open, then stop reading for good.
      socket.once('data', () => {
        socket.pause();
        resolve({ socket, closed: () => closed });
      });
    });
    socket.on('close', () => (closed = true));
    socket.on('error', () => (closed = true));
    setTimeout(() => reject(new Error(`${kind} client got no answer`)), 15_000);
  });
}

async function publish(url: string, n: number, kib: number): Promise<void> {
  const data = 'x'.repeat(kib * 1024 - 64);
  // Eight publishers at a time: enough to outpace any reader, little enough to keep the run in seconds.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        const i = next++;
        const res = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'slow.bench', data: { i, data } }) });
        if (res.status !== 202 && res.status !== 201 && res.status !== 200) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
}

async function round(kind: 'none' | 'sse' | 'ws'): Promise<{ kind: string; before: number; after: number; cut: number; held: number; peak: number }> {
  const server: ServerProcess = await startServer({ args: ['--data-dir', join(tempDir('capstan-bench-'), 'data')], env: { CAPSTAN_LOG_LEVEL: 'error' }, timeoutMs: 300_000 });
  const pid = server.child.pid!;
  try {
    const url = new URL(server.url);
    // Warm the publish path so the baseline does not count first-request allocations.
    await publish(server.url, 50, KIB);
    await sleep(1000);
    Bun.gc(true);
    const before = rssMiB(pid);
    const clients = kind === 'none' ? [] : await Promise.all(Array.from({ length: CLIENTS }, () => stalledClient(url, kind)));
    // Poll the server's gauge of bytes held for stream clients while publishing: its peak is what stalled clients cost.
    const label = kind === 'ws' ? 'websocket' : 'sse';
    let peak = 0;
    let publishing = true;
    const poller = (async () => {
      while (publishing) {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        peak = Math.max(peak, metricValue(text, 'event_stream_buffered_bytes', label));
        await sleep(200);
      }
    })();
    await publish(server.url, EVENTS, KIB);
    publishing = false;
    await poller;
    // Let the server's grace period for stalled clients (closeGraceSeconds, 10 s by default) pass.
    await sleep(12_000);
    Bun.gc(true);
    const after = rssMiB(pid);
    // The server's own count: a paused client socket does not see the close until it reads, so ask the server.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const cut = kind === 'none' ? 0 : metricValue(metrics, 'event_stream_slow_disconnects_total', kind === 'ws' ? 'websocket' : kind);
    const held = metricValue(metrics, 'event_stream_buffered_bytes', kind === 'ws' ? 'websocket' : 'sse');
    for (const c of clients) c.socket.destroy();
    return { kind, before, after, cut, held, peak };
  } finally {
    await server.stop();
  }
}

const rows = [];
for (const kind of ['none', 'sse', 'ws'] as const) {
  const r = await round(kind);
  rows.push(r);
  console.log(`${kind.padEnd(4)} clients=${kind === 'none' ? 0 : CLIENTS} rss ${r.before.toFixed(1)} -> ${r.after.toFixed(1)} MiB (+${(r.after - r.before).toFixed(1)}), stalled clients cut by the server: ${r.cut}, peak bytes held for clients ${(r.peak / 2 ** 20).toFixed(1)} MiB, still held after: ${r.held}`);
}
const base = rows[0]!.after - rows[0]!.before;
console.log(`\n${EVENTS} events x ${KIB} KiB (${((EVENTS * KIB) / 1024).toFixed(0)} MiB published), ${CLIENTS} stalled clients per row; baseline growth (no client) +${base.toFixed(1)} MiB`);
for (const r of rows.slice(1)) console.log(`${r.kind}: growth beyond the baseline +${(r.after - r.before - base).toFixed(1)} MiB for ${CLIENTS} stalled clients; ${r.cut}/${CLIENTS} cut; peak held ${(r.peak / 2 ** 20).toFixed(1)} MiB`);
