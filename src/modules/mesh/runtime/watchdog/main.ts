/**
 * Entry of the replica watchdog process (see supervisor.ts): commands on stdin, reports on stdout. Started by
 * `capstan agent` as `bun main.ts` from a source checkout (no module graph to load), or as the hidden
 * `capstan agent-watchdog` command from the compiled binary.
 */
import { runWatchdog } from './supervisor.ts';

/** Runs the watchdog on this process's stdin and stdout. */
export function watchdogMain(): Promise<number> {
  // A terminal's Ctrl-C reaches the whole process group: the agent stops its replicas gracefully and then closes our
  // stdin; we must not kill them first.
  process.on('SIGINT', () => {});
  return new Promise((resolve) => {
    runWatchdog({ input: process.stdin, send: (r) => process.stdout.write(`${JSON.stringify(r)}\n`), exit: resolve });
    process.stdout.write(`${JSON.stringify({ ev: 'ready', pid: process.pid })}\n`);
  });
}

if (import.meta.main) process.exit(await watchdogMain());
