/**
 * Processes an agent starts (run_command, an external CLI agent): argv only, never a shell; each in its own process
 * group so a kill takes its children too; output capped; environment scrubbed of secrets.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Environment variables a tool process inherits; everything else (keys, tokens, service URLs) stays out. */
const KEEP_ENV = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TERM', 'TMPDIR', 'USER', 'LOGNAME', 'SHELL'];
/** Names that look like a secret even when an operator lists them in `extra`. */
const SECRET = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|_URL$|DATABASE|REDIS|NATS/i;

/** The scrubbed environment: a short list of harmless variables, HOME pointed at the worktree, plus `extra` minus secret-looking names. */
export function scrubbedEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of KEEP_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  for (const [k, v] of Object.entries(extra)) if (!SECRET.test(k)) env[k] = v;
  env.HOME = home;
  // git inside the worktree must not pick up a global identity or credential helper.
  env.GIT_CONFIG_NOSYSTEM = '1';
  env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

/** How a process ended. */
export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  killed: boolean;
  durationMs: number;
}

/** Options of one process. */
export interface ProcessOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  capBytes: number;
  stdin?: string;
  signal?: AbortSignal;
  /** Called with each complete stdout line (the external CLI runtime parses JSON lines from it). */
  onLine?: (line: string) => void;
}

/** Every process group started through `runProcess` that has not exited, so a kill can reach them all. */
export class ProcessGroup {
  private readonly live = new Set<ChildProcess>();

  /** Kills every live process group (SIGKILL). */
  killAll(): void {
    for (const c of this.live) killTree(c);
  }

  /** Processes still running. */
  get size(): number {
    return this.live.size;
  }

  /** Runs argv (no shell) and resolves when it exits; never rejects for a non-zero exit. */
  run(argv: string[], o: ProcessOptions): Promise<ProcessResult> {
    const started = performance.now();
    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: o.env, detached: true, stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      } catch (err) {
        resolve({ exitCode: null, signal: null, stdout: '', stderr: `could not start ${argv[0]}: ${(err as Error).message}`, truncated: false, timedOut: false, killed: false, durationMs: 0 });
        return;
      }
      this.live.add(child);
      let out = '';
      let err = '';
      let truncated = false;
      let pending = '';
      let timedOut = false;
      let killed = false;
      const take = (buf: string, chunk: string): string => {
        if (buf.length + chunk.length <= o.capBytes) return buf + chunk;
        truncated = true;
        return buf + chunk.slice(0, Math.max(0, o.capBytes - buf.length));
      };
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        out = take(out, d);
        if (!o.onLine) return;
        pending += d;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          o.onLine(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
        }
      });
      child.stderr!.on('data', (d: string) => (err = take(err, d)));
      const timer = setTimeout(() => {
        timedOut = true;
        killTree(child);
      }, o.timeoutMs);
      const onAbort = () => {
        killed = true;
        killTree(child);
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      if (o.signal?.aborted) onAbort();
      child.on('error', (e) => (err = take(err, `\n${e.message}`)));
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        this.live.delete(child);
        if (o.onLine && pending) o.onLine(pending);
        resolve({ exitCode: code, signal: sig, stdout: out, stderr: err, truncated, timedOut, killed, durationMs: Math.round(performance.now() - started) });
      });
      if (o.stdin !== undefined) {
        child.stdin!.on('error', () => undefined);
        child.stdin!.end(o.stdin);
      }
    });
  }
}

/** SIGKILL to the child's whole process group (it leads one: spawned detached). */
function killTree(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
