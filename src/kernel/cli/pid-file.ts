/**
 * The pid file `capstan serve` writes and `capstan stop` reads, so scripts can stop the server by the pid of the
 * process that handles signals (bun itself, not an `npx` wrapper, which does not forward SIGTERM).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The pid file of a server: `--pid-file` when given, else `serve.pid` in the data directory. */
export function pidFilePath(dataDir: string, pidFile?: string): string {
  return resolve(pidFile ?? join(dataDir, 'serve.pid'));
}

/** The pid the file holds; undefined when there is no file; NaN when it holds something else. */
export function readPidFile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return /^\d+\s*$/.test(text) ? Number(text.trim()) : Number.NaN;
}

/** /proc/<pid>/<file>, or undefined when the process is gone or there is no /proc (then we trust kill(pid, 0)). */
function proc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** True while `pid` runs (a zombie, which has exited and waits for its parent, does not count). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = proc(pid, 'stat');
  // The state follows the command name in parentheses, which may itself hold spaces and parentheses.
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * True when `pid` runs and is a `capstan serve` (its arguments include `serve`), so that a pid file left by a dead
 * server whose pid was reused by another program is seen as stale. Without /proc, any running process counts.
 */
export function isServeProcess(pid: number): boolean {
  if (!isRunning(pid)) return false;
  const cmdline = proc(pid, 'cmdline');
  if (cmdline !== undefined) return cmdline.split('\0').includes('serve');
  // No cmdline: either this system has no /proc (then trust kill(pid, 0)) or the process has just gone.
  return proc(process.pid, 'cmdline') === undefined;
}

/**
 * Writes this process's pid to `path`, replacing a stale file (its process gone, or not a capstan serve). Returns
 * the pid of the live server that already owns the file instead, and then writes nothing.
 */
export function claimPidFile(path: string): { ownedBy?: number } {
  const existing = readPidFile(path);
  if (existing !== undefined && existing !== process.pid && Number.isInteger(existing) && isServeProcess(existing)) return { ownedBy: existing };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${process.pid}\n`);
  return {};
}

/** Removes `path` if it still holds this process's pid (never another server's file); never throws, as it runs on the way out. */
export function releasePidFile(path: string): void {
  try {
    if (readPidFile(path) === process.pid) rmSync(path, { force: true });
  } catch {
    // Unreadable now: left in place, and seen as stale once this process is gone.
  }
}
