/**
 * The pipe between `capstan agent` and its replica watchdog (one JSON object per line). Deadlines travel as wall-clock
 * milliseconds because both processes run on one machine and read one clock; the watchdog converts each to its own
 * monotonic clock the moment it reads it, so a later wall-clock step cannot move a deadline it already holds.
 */

/** Agent → watchdog. */
export type WatchdogCommand =
  /** Start a replica; it must be gone by `deadlineAt` unless a later `deadline` moves it (null: no deadline). */
  | { op: 'spawn'; id: string; argv: string[]; env: Record<string, string>; cwd?: string; deadlineAt: number | null; graceMs: number }
  /** A successful renewal moved the replica's deadline (null: none, for split-brain-allowed). */
  | { op: 'deadline'; id: string; at: number | null }
  /** Send a signal to the replica (the agent's own stop). */
  | { op: 'signal'; id: string; signal: 'SIGTERM' | 'SIGKILL' };

/** Watchdog → agent. */
export type WatchdogReport =
  | { ev: 'ready'; pid: number }
  /** `at`: wall clock when it started, for the history (the agent may learn of it later). */
  | { ev: 'spawned'; id: string; pid: number; at: number }
  | { ev: 'spawn-failed'; id: string; error: string }
  /** The replica was stopped by the watchdog because its deadline passed without a renewal (`signal` sent). */
  | { ev: 'deadline'; id: string; pid: number; signal: 'SIGTERM' | 'SIGKILL'; at: number }
  /**
   * The replica ended; `at` is the wall clock when the watchdog saw it end (the agent may be paused then), `deadline`
   * says the watchdog had signalled it for a missed deadline.
   */
  | { ev: 'exit'; id: string; pid: number; code: number | null; signal: string | null; at: number; deadline: boolean };

/** Parses one line; undefined when it is not a JSON object with `op` or `ev`. */
export function parseLine<T extends object>(line: string): T | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' && ('op' in v || 'ev' in v) ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a stream of chunks into lines. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
  };
}
