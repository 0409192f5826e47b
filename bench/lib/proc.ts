/** CPU time of another process, read from /proc (Linux). */
import { readFileSync } from 'node:fs';

/** utime + stime of `pid` so far, in µs (the kernel counts in clock ticks of 1/100 s). */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}
