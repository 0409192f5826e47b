/** `capstan stop`: SIGTERM to the server named by its pid file, then wait for it to exit within the shutdown bound. */
import { rmSync } from 'node:fs';
import type { KernelConfig } from '../config/schema.ts';
import { sleep } from '../time.ts';
import { UsageError } from './args.ts';
import { isRunning, isServeProcess, pidFilePath, readPidFile } from './pid-file.ts';

/** How long past the server's own shutdown bound we wait: it force-exits at the bound, then needs a moment to go. */
const GRACE_MS = 2_000;

/** Stops the server; 0 once it has exited, 1 when none runs or it did not exit in time. Messages go to stderr/stdout. */
export async function stopServer(cfg: KernelConfig, flags: { 'data-dir'?: string; 'pid-file'?: string }): Promise<number> {
  if (flags['data-dir'] !== undefined && flags['pid-file'] !== undefined) throw new UsageError('give --data-dir or --pid-file, not both');
  const path = pidFilePath(flags['data-dir'] ?? cfg.dataDir, flags['pid-file']);
  const pid = readPidFile(path);
  if (pid === undefined) {
    console.error(`capstan: no server running: no pid file at ${path}`);
    return 1;
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    console.error(`capstan: ${path} does not hold a process id; remove it if no server runs`);
    return 1;
  }
  if (!isServeProcess(pid)) {
    rmSync(path, { force: true });
    console.error(`capstan: no server running: process ${pid} is gone; removed the stale pid file ${path}`);
    return 1;
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    console.error(code === 'EPERM' ? `capstan: not allowed to signal process ${pid} (started by another user?)` : `capstan: signalling process ${pid} failed: ${code}`);
    return 1;
  }
  const bound = cfg.server.shutdownTimeoutMs + GRACE_MS;
  const deadline = Date.now() + bound;
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      console.error(`capstan: process ${pid} did not exit within ${bound} ms of SIGTERM`);
      return 1;
    }
    await sleep(50);
  }
  console.log(`stopped capstan serve (pid ${pid})`);
  return 0;
}
