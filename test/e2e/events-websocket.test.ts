/** GET /api/v1/events upgrades to a WebSocket that streams the events matching the pattern. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';
import { eventually, sleep } from '../kit/index.ts';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({ args: ['--data-dir', join(tempDir(), 'data')] });
});
afterAll(async () => {
  await server?.stop();
});

describe('events over WebSocket', () => {
  it('delivers matching events and filters the rest', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/events?pattern=ws.*.yes`);
    const received: { type: string; data: unknown }[] = [];
    const gotFinal = new Promise<void>((resolve) => {
      ws.addEventListener('message', (m) => {
        const evt = JSON.parse(String(m.data)) as { type: string; data: unknown };
        received.push(evt);
        if (evt.type === 'ws.final.yes') resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('websocket failed to open')));
    });
    // The server subscribes in onOpen; publish until the first one arrives to avoid racing that subscription.
    const publish = (type: string, n: number) => fetch(`${server.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, data: { n } }) });
    let sent = 0;
    await eventually(
      async () => {
        await publish('ws.a.no', sent);
        await publish('ws.warmup.yes', sent++);
        await sleep(100);
        return received.length > 0;
      },
      { timeout: 10_000, interval: 0, what: 'the first warm-up event over the websocket' },
    );
    await publish('ws.b.no', 0);
    await publish('ws.final.yes', 99);
    await gotFinal;
    ws.close();
    const types = received.map((e) => e.type);
    expect(types.every((t) => t.endsWith('.yes'))).toBe(true);
    expect(types).toContain('ws.warmup.yes');
    expect(received.at(-1)).toMatchObject({ type: 'ws.final.yes', data: { n: 99 } });
  });
});

describe('events over SSE on a real server', () => {
  it('keeps a quiet stream open past the server idle timeout (10 s) and still delivers on it', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/v1/events?pattern=sse.quiet.>`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let closed = false;
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          closed = true;
          return;
        }
        text += decoder.decode(value);
      }
    })().catch(() => {
      closed = true;
    });
    // Quiet for longer than Bun's 10 s idle timeout: a stream without keep-alives (or with them too far apart) is cut.
    await sleep(12_000);
    expect(closed).toBe(false);
    expect(text).toContain(': keep-alive');
    await fetch(`${server.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'sse.quiet.after', data: { n: 1 } }) });
    await eventually(() => text.includes('sse.quiet.after'), { timeout: 5_000, what: 'the event after the quiet spell' });
    expect(text).toContain('"type":"sse.quiet.after"');
    controller.abort();
    await reading;
  }, 30_000);
});

describe('body limit on a real server', () => {
  it('a body far over the limit gets the app\'s problem+json 413, not a bare one from the HTTP server', async () => {
    const res = await fetch(`${server.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'big.body', data: 'x'.repeat(5_000_000) }) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await res.json()).code).toBe('PayloadTooLarge');
  });
});
