/** Starts `capstan dev target` as a child process on a free loopback port (the breeder's simulated target system). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BUN, REPO_ROOT } from './server-process.ts';

/** A running simulated target. */
export interface TargetProcess {
  url: string;
  /** Its JSON metrics (applies, last params, objectives, load). */
  stats(): Promise<{ applies: number; params: Record<string, number> | null; value: number | null; objectives: number[] | null; load: number | null }>;
  stop(): Promise<void>;
}

/** Spawns the target with `args` (e.g. ['--function', 'branin']) and resolves once it listens. */
export async function startTarget(args: string[] = [], env: Record<string, string> = {}): Promise<TargetProcess> {
  const child = spawn(BUN, [join(REPO_ROOT, 'src/main.ts'), 'dev', 'target', '--port', '0', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`target did not start:\n${out}`));
      // Bun starts it in well under a second when idle; on a machine loaded by parallel builds it took over 30 s.
    }, 90_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => rej(new Error(`target exited with ${code}:\n${out}`)));
  });
  return {
    url,
    stats: async () => (await fetch(`${url}/metrics.json`)).json() as never,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

