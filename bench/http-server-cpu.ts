/**
 * `bun bench/http-server-cpu.ts kernel|baseline [pglite|postgres] [get|post]`: where one bench server's CPU goes, per
 * thread and split into user and system time, while idle and under wrk. bench/http.ts reports only the process total;
 * this tells the main thread (request handling, socket system calls) from GC helpers, JIT and allocator threads, and
 * shows the idle work of the embedded resources (timers) that a request would otherwise be billed for.
 * Not part of run.ts. Needs wrk on PATH. SETTLE=ms waits that long after listening (PGlite keeps compiling
 * WebAssembly for a while), ROUNDS=n rounds of 5 s after 3 s of warm-up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [which = 'kernel', database = 'pglite', endpoint = 'post'] = process.argv.slice(2);
if ((which !== 'kernel' && which !== 'baseline') || (endpoint !== 'get' && endpoint !== 'post')) {
  process.stderr.write('usage: bun bench/http-server-cpu.ts kernel|baseline [pglite|postgres] [get|post]\n');
  process.exit(2);
}
if (!Bun.which('wrk')) throw new Error('wrk is not installed (apt-get install wrk)');
const token = `tok-${crypto.randomUUID()}`;
const body = JSON.stringify({ text: 'hello', times: 2 });
const server = Bun.spawn([process.execPath, join(import.meta.dirname, 'http-server.ts'), which], {
  env: { ...process.env, BENCH_TOKEN: token, BENCH_KERNEL_DB: database },
  stdin: 'pipe',
  stdout: 'pipe',
  stderr: 'inherit',
});
const reader = server.stdout.getReader();
let text = '';
while (!/listening (\d+)\n/.test(text)) {
  const { value, done } = await reader.read();
  if (done) throw new Error('server exited before listening');
  text += new TextDecoder().decode(value);
}
const port = /listening (\d+)/.exec(text)![1];

/** CPU so far (µs) by thread name (the main thread as "main", its user and system parts as "main.usr"/"main.sys"). */
function threadCpu(): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${server.pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${server.pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const name = tid === String(server.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime in clock ticks of 10 ms (fields 14 and 15 of the line).
    const [user, system] = [Number(f[11]) * 10_000, Number(f[12]) * 10_000];
    byName.set(name, (byName.get(name) ?? 0) + user + system);
    if (name === 'main') {
      byName.set('main.usr', user);
      byName.set('main.sys', system);
    }
  }
  return byName;
}

function since(before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of threadCpu()) if (v - (before.get(k) ?? 0) > 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

async function wrk(seconds: number): Promise<number> {
  const url = endpoint === 'post' ? `http://127.0.0.1:${port}/api/v1/bench/say` : `http://127.0.0.1:${port}/healthz`;
  const args = ['wrk', '-t1', '-c64', `-d${seconds}s`, ...(endpoint === 'post' ? ['-s', join(import.meta.dirname, 'post.lua')] : []), url];
  const p = Bun.spawn(args, { env: { ...process.env, BENCH_TOKEN: token, BENCH_BODY: body }, stdout: 'pipe' });
  const out = await new Response(p.stdout).text();
  if (/Non-2xx/.test(out)) throw new Error(`non-2xx answers:\n${out}`);
  return Number(/(\d+) requests in/.exec(out)?.[1]);
}

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const total = (m: Map<string, number>) => [...m].filter(([k]) => !k.startsWith('main.')).reduce((s, [, v]) => s + v, 0);
const show = (m: Map<string, number>, per: number) =>
  [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${(v / per).toFixed(1)}`).join(' ');

await Bun.sleep(Number(process.env.SETTLE ?? 15_000));
const idleBefore = threadCpu();
await Bun.sleep(5_000);
const idle = since(idleBefore);
process.stdout.write(`${which}/${database} idle, µs of CPU per second: ${total(idle) / 5} (${show(idle, 5)}); load ${load()}\n`);
await wrk(3);
for (let round = 1; round <= Number(process.env.ROUNDS ?? 3); round++) {
  const before = threadCpu();
  const requests = await wrk(5);
  const used = since(before);
  process.stdout.write(
    `${which}/${database} ${endpoint} round ${round}: ${Math.round(requests / 5)} req/s, ${(total(used) / requests).toFixed(1)} µs of CPU per request (${show(used, requests)}); load ${load()}\n`,
  );
}
server.stdin.end();
await server.exited;
process.exit(0);
