/** CPU time of local server processes by command name (all PostgreSQL backends, nats-server), read from /proc. */
import { readdirSync, readFileSync } from 'node:fs';
import { processCpuUs } from './proc.ts';

/** Sum of utime + stime (µs) over live processes whose /proc/<pid>/comm is one of `names`; a process that exits meanwhile is skipped. */
export function cpuOfCommands(names: readonly string[]): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.includes(comm)) total += processCpuUs(Number(entry));
    } catch {
      // Gone between listing and reading.
    }
  }
  return total;
}
