/** Runs a program from an argv array: never through a shell, so no argument is ever parsed as shell syntax. */
import { Invalid } from '../errors.ts';
import { CallFailed } from './call-failed.ts';

/** Options of runCommand. */
export interface CommandOptions {
  /** Kills the process (SIGKILL) after this long; default 60 s. */
  timeoutMs?: number;
  cwd?: string;
  /** The child's whole environment; default: this process's. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, then closed. */
  stdin?: string;
  /** Aborts (kills) the command early. */
  signal?: AbortSignal;
}

/** Default timeout of runCommand. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/** Runs `argv` (argv[0] is the program, looked up on PATH) and returns its stdout; a non-zero exit, a timeout or a failed start throws CallFailed. */
export async function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<string> {
  const [program] = argv;
  if (!program) throw new Invalid('a command needs at least a program name', [{ path: 'argv', message: 'must not be empty' }]);
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  let proc: ReturnType<typeof Bun.spawn<'pipe' | 'ignore', 'pipe', 'pipe'>>;
  try {
    proc = Bun.spawn([...argv], {
      cwd: options.cwd,
      env: options.env,
      stdin: options.stdin === undefined ? 'ignore' : 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
    });
  } catch (err) {
    throw new CallFailed(`command ${program} could not start: ${(err as Error).message}`);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, timeoutMs);
  const onAbort = (): void => proc.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.stdin !== undefined && proc.stdin && typeof proc.stdin !== 'number') {
      proc.stdin.write(options.stdin);
      await proc.stdin.end();
    }
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (timedOut) throw new CallFailed(`command ${program} timed out after ${timeoutMs} ms`);
    if (options.signal?.aborted) throw new CallFailed(`command ${program} was aborted`);
    if (code !== 0) throw new CallFailed(`command ${program} exited ${code}: ${err.slice(0, 200)}`);
    return out;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
