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
// DB=postgres: the kernel on a PostgreSQL pool (as distributed mode runs) instead of PGlite, which makes every
// request in its process dearer, the bare app's too (bench/RESULTS.md, 2 Dec 2026 14:31).
const kernel = await kernelApp(token, { database: process.env.DB === 'postgres' ? 'postgres' : 'pglite' });
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
const rounds = Number(process.env.ROUNDS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const w of which) {
  const ks: number[] = [];
  const bs: number[] = [];
  // A warm-up round of each, not counted (JIT tiers, caches).
  await cpuPerRequest(kernel.fetch as Fetch, w, n);
  await cpuPerRequest(bare.fetch as Fetch, w, n);
  for (let round = 1; round <= rounds; round++) {
    const k = await cpuPerRequest(kernel.fetch as Fetch, w, n);
    const b = await cpuPerRequest(bare.fetch as Fetch, w, n);
    ks.push(k);
    bs.push(b);
    process.stdout.write(`${w} round ${round}: kernel ${k.toFixed(1)} µs, bare Hono ${b.toFixed(1)} µs of CPU per request; ratio ${(b / k).toFixed(2)}\n`);
  }
  const [k, b] = [median(ks), median(bs)];
  process.stdout.write(`${w} median of ${rounds}: kernel ${k.toFixed(1)} µs, bare Hono ${b.toFixed(1)} µs; ratio ${(b / k).toFixed(2)}; load ${(await Bun.file('/proc/loadavg').text()).split(' ').slice(0, 3).join(' ')}\n`);
}
await kernel.close();
process.exit(0);
