/** Fallback load generator when wrk is absent: `connections` concurrent fetch loops for `seconds`; prints one JSON line. */
const [url, method = 'GET', secondsArg = '5', connectionsArg = '64'] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: bun bench/http-load.ts URL [GET|POST] [seconds] [connections]\n');
  process.exit(2);
}
const body = method === 'POST' ? process.env.BENCH_BODY : undefined;
const headers: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json', authorization: `Bearer ${process.env.BENCH_TOKEN}` } : {};
const deadline = performance.now() + Number(secondsArg) * 1000;
let requests = 0;
let non2xx = 0;
let errors = 0;

async function loop(): Promise<void> {
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url!, { method, body, headers });
      await res.arrayBuffer();
      requests++;
      if (res.status < 200 || res.status >= 400) non2xx++;
    } catch {
      errors++;
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: Number(connectionsArg) }, loop));
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ requests, non2xx, errors, seconds })}\n`);

export {};
