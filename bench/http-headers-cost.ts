/**
 * `bun bench/http-headers-cost.ts [rounds]`: what Bun's own server charges per response header, without Hono or the
 * kernel. Three minimal Bun.serve processes answer the bench POST (parse the JSON body, answer JSON) with one header
 * (as bare Hono does), two (plus X-Request-Id, as the kernel's probes) and four (plus RateLimit-Limit and
 * RateLimit-Remaining, as the kernel's API answers); wrk rounds of 3 s take turns between them and the server's CPU per
 * request is reported (median). Explains part of the http rows (bench/RESULTS.md, 3 Dec); not part of run.ts.
 * Needs wrk on PATH. Run as `bun bench/http-headers-cost.ts --serve N` it is one of the servers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processCpuUs } from './lib/proc.ts';
import { median } from './lib/stats.ts';

/** Header sets by count; values shaped like the kernel's (an id of a 64-bit prefix and a counter, a large limit). */
function headersFor(count: number, n: number): Record<string, string> {
  if (count === 1) return { 'content-type': 'application/json' };
  const id = { 'content-type': 'application/json', 'x-request-id': `a1b2c3d4e5f60718-${n.toString(36)}` };
  return count === 2 ? id : { ...id, 'ratelimit-limit': '1000000000', 'ratelimit-remaining': String(1_000_000_000 - n) };
}

async function serveMode(count: number): Promise<void> {
  let n = 0;
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = (await req.json()) as { text: string; times: number };
      return new Response(JSON.stringify({ said: body.text.repeat(body.times) }), { headers: headersFor(count, ++n) });
    },
  });
  process.stdout.write(`listening ${server.port}\n`);
  const reader = Bun.stdin.stream().getReader();
  while (!(await reader.read()).done) {
    // Runs until the parent closes stdin.
  }
  process.exit(0);
}

async function start(count: number): Promise<{ pid: number; url: string; stop(): void }> {
  const p = Bun.spawn([process.execPath, import.meta.path, '--serve', String(count)], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' });
  const reader = p.stdout.getReader();
  let text = '';
  while (!/listening (\d+)\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error('server exited before listening');
    text += new TextDecoder().decode(value);
  }
  return { pid: p.pid, url: `http://127.0.0.1:${/listening (\d+)/.exec(text)![1]}/say`, stop: () => void p.stdin.end() };
}

/** One wrk run of the bench POST; returns the number of requests answered. */
async function wrk(url: string, seconds: number): Promise<number> {
  const p = Bun.spawn(['wrk', '-t1', '-c64', `-d${seconds}s`, '-s', join(import.meta.dirname, 'post.lua'), url], {
    env: { ...process.env, BENCH_TOKEN: 'unused', BENCH_BODY: JSON.stringify({ text: 'hello', times: 2 }) },
    stdout: 'pipe',
  });
  const out = await new Response(p.stdout).text();
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`wrk reported errors:\n${out}`);
  return Number(/(\d+) requests in/.exec(out)?.[1]);
}

if (process.argv[2] === '--serve') {
  await serveMode(Number(process.argv[3]));
} else {
  if (!Bun.which('wrk')) throw new Error('wrk is not installed (apt-get install wrk)');
  const rounds = Number(process.argv[2] ?? 12);
  const counts = [1, 2, 4];
  const servers = await Promise.all(counts.map(start));
  try {
    for (const s of servers) await wrk(s.url, 2);
    const cpu: number[][] = counts.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, s] of servers.entries()) {
        const before = processCpuUs(s.pid);
        const requests = await wrk(s.url, 3);
        cpu[i]!.push((processCpuUs(s.pid) - before) / requests);
      }
    }
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    for (const [i, count] of counts.entries()) {
      process.stdout.write(`${count} response header(s): ${median(cpu[i]!).toFixed(1)} µs of server CPU per request (rounds ${cpu[i]!.map((x) => x.toFixed(1)).join(' ')})\n`);
    }
    process.stdout.write(`load ${load}\n`);
  } finally {
    for (const s of servers) s.stop();
  }
  process.exit(0);
}
