/**
 * `bun bench/http-inproc.ts [requests] [get|post]`: CPU time per request of the two bench apps' fetch called
 * in-process (no sockets, no load generator), kernel and bare Hono alternating. It isolates the framework's own
 * cost, which the wrk figures mix with the server's socket work and with whatever else the machine runs.
 * Not part of run.ts: it explains the http rows, it is not a goal. SETTLE=ms waits that long first (PGlite's
 * WebAssembly is still being compiled in the background for some seconds after start).
 */
import { baselineApp } from './http-baseline-app.ts';
import { kernelApp } from './http-kernel-app.ts';

const token = `tok-${crypto.randomUUID()}`;
const kernel = await kernelApp(token);
const bare = baselineApp(token);
const body = JSON.stringify({ text: 'hello', times: 2 });
// What Bun.serve hands to fetch as `env`: the rate limiter keys anonymous callers by this address.
const env = { requestIP: () => ({ address: '127.0.0.1' }) };
const requests = {
  get: () => new Request('http://127.0.0.1:1/healthz'),
  post: () =>
    new Request('http://127.0.0.1:1/api/v1/bench/say', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length), authorization: `Bearer ${token}` },
    }),
};
type Fetch = (req: Request, env: unknown) => Response | Promise<Response>;

async function cpuPerRequest(fetch: Fetch, which: 'get' | 'post', n: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await fetch(requests[which](), env);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${which} answered ${res.status}`);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

await Bun.sleep(Number(process.env.SETTLE ?? 3000));
const n = Number(process.argv[2] ?? 20_000);
const which = (process.argv[3] ? [process.argv[3]] : ['get', 'post']) as ('get' | 'post')[];
for (const w of which) {
  for (let round = 1; round <= 3; round++) {
    const k = await cpuPerRequest(kernel.fetch as Fetch, w, n);
    const b = await cpuPerRequest(bare.fetch as Fetch, w, n);
    process.stdout.write(`${w} round ${round}: kernel ${k.toFixed(1)} µs, bare Hono ${b.toFixed(1)} µs of CPU per request; ratio ${(b / k).toFixed(2)}\n`);
  }
}
await kernel.close();
process.exit(0);
