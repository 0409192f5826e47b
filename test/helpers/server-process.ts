/** Starts `bun src/main.ts serve` (or the compiled binary) as a child process on a free loopback port and waits until it serves. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A running server child process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far (for assertions and failure messages). */
  output(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Options for starting a server. */
export interface StartOptions {
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Run this executable instead of `bun src/main.ts` (e.g. dist/capstan). */
  binary?: string;
  timeoutMs?: number;
}

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const BUN = process.execPath.includes('bun') ? process.execPath : join(REPO_ROOT, 'node_modules/.bin/bun');

/** The test's environment without Capstan's own variables (so the developer's shell cannot leak in), plus `extra`. */
function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CAPSTAN_|DATABASE_URL|REDIS_URL|NATS_URL)/.test(k)) env[k] = v;
  return { ...env, CAPSTAN_LOG_LEVEL: 'warn', ...extra } as NodeJS.ProcessEnv;
}

/** A fresh temporary directory (for --data-dir). */
export function tempDir(prefix = 'capstan-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Spawns `capstan serve --port 0 ...` and resolves once it prints its URL. */
export async function startServer(opts: StartOptions = {}): Promise<ServerProcess> {
  const args = ['serve', '--port', '0', ...(opts.args ?? [])];
  const [cmd, argv] = opts.binary ? [opts.binary, args] : [BUN, [join(REPO_ROOT, 'src/main.ts'), ...args]];
  const child = spawn(cmd, argv, { cwd: REPO_ROOT, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  // A server left behind by a failed or timed-out test would load the shared machine for good.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const url = await new Promise<string>((res, rej) => {
    // A server too slow to start is killed, not left running after its test has failed.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`server did not start within ${opts.timeoutMs ?? 150_000} ms:\n${out}`));
    }, opts.timeoutMs ?? 150_000);
    const onData = () => {
      const m = /serving on (http:\/\/[^\s]+) /.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before serving:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs a capstan command to completion and returns its exit code and output. */
export async function runCapstan(args: string[], opts: { env?: Record<string, string | undefined>; binary?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = opts.binary ? [opts.binary, args] : [BUN, [join(REPO_ROOT, 'src/main.ts'), ...args]];
  const child = spawn(cmd, argv, { cwd: REPO_ROOT, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  return { code, stdout, stderr };
}
