/**
 * One process at a time on an embedded data directory. PGlite keeps its database in files that a second process
 * would open as its own copy: both would answer 201, and the writes of one are lost when the other saves. The lock
 * file names the holder by pid and process start time, so a lock left by a SIGKILLed process (or a pid reused by
 * another program) is seen as stale and taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Unavailable } from '../errors.ts';

const LOCK_FILE = 'capstan.lock';

/** The start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22); undefined when it is not running. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces); starttime is field 22 of the line.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number, started: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTicks(pid);
  // Without /proc (not Linux) the pid alone has to do.
  return now === undefined || started === undefined || now === started;
}

/** Claims `dataDir` for this process or throws naming the process that holds it; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, started: startTicks(process.pid) });
  // Exclusive create, so two servers starting at the same moment cannot both take a free directory. A stale file is
  // removed and the create tried again (two processes taking over the same stale lock at once remain a narrow race).
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, mine, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
    let holder: { pid?: unknown; started?: string } | undefined;
    try {
      holder = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; started?: string };
    } catch {
      holder = undefined; // a torn file from a crash: nobody holds it
    }
    const pid = holder?.pid;
    if (typeof pid === 'number' && Number.isInteger(pid) && pid !== process.pid && alive(pid, holder?.started)) {
      throw new Unavailable(
        `data directory ${dataDir} is in use by process ${pid}: embedded mode runs one server per data directory (stop it with 'capstan stop', or give another --data-dir)`,
      );
    }
    rmSync(path, { force: true });
  }
  return () => {
    try {
      if (readFileSync(path, 'utf8') === mine) rmSync(path, { force: true });
    } catch {
      // Already gone: nothing to release.
    }
  };
}
