/** Drives HTTP load with wrk (Debian package) when installed, otherwise with bench/http-load.ts in a separate bun process. */
import { join } from 'node:path';

/** One load run. */
export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  /** JSON body for POST. */
  body?: string;
  /** Bearer token for POST. */
  token?: string;
  seconds: number;
  connections: number;
}

/** What a load run achieved. */
export interface LoadResult {
  rps: number;
  requests: number;
  /** Responses outside 2xx/3xx: any of these makes the figure meaningless, so callers refuse it. */
  non2xx: number;
  /** Connect/read/write/timeout errors. */
  socketErrors: number;
}

const benchDir = join(import.meta.dirname, '..');

/** The load generator in use, for the report. */
export function loadGenerator(): string {
  const wrk = Bun.which('wrk');
  if (!wrk) return 'bun fetch loop (bench/http-load.ts, separate process; wrk not installed)';
  const p = Bun.spawnSync([wrk, '-v']);
  const version = /wrk\s+(\S+)/.exec(p.stdout.toString() + p.stderr.toString())?.[1] ?? 'unknown version';
  return `wrk ${version} (1 thread; POST via bench/post.lua)`;
}

async function run(cmd: string[], env: Record<string, string>): Promise<string> {
  const p = Bun.spawn(cmd, { env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd[0]} exited with ${code}: ${err.trim() || out.trim()}`);
  return out;
}

/** Parses wrk's summary (requests/s, non-2xx count, socket errors). */
export function parseWrk(out: string): LoadResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  if (!Number.isFinite(rps)) throw new Error(`cannot read wrk output:\n${out}`);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const s = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = s ? s.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { rps, requests, non2xx, socketErrors };
}

/** Runs one load test against `spec.url`. */
export async function drive(spec: LoadSpec): Promise<LoadResult> {
  const env = { BENCH_BODY: spec.body ?? '', BENCH_TOKEN: spec.token ?? '' };
  const wrk = Bun.which('wrk');
  if (wrk) {
    const cmd = [wrk, '-t1', `-c${spec.connections}`, `-d${spec.seconds}s`];
    if (spec.method === 'POST') cmd.push('-s', join(benchDir, 'post.lua'));
    return parseWrk(await run([...cmd, spec.url], env));
  }
  const out = await run([process.execPath, join(benchDir, 'http-load.ts'), spec.url, spec.method, String(spec.seconds), String(spec.connections)], env);
  const r = JSON.parse(out) as { requests: number; non2xx: number; errors: number; seconds: number };
  return { rps: r.requests / r.seconds, requests: r.requests, non2xx: r.non2xx, socketErrors: r.errors };
}
