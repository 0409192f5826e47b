/**
 * Embedded mode: one process per data directory. A second `capstan serve` (or `export`) on a directory a live server
 * holds is refused before it opens the database, naming the holder; a lock left by a killed server is taken over.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/kernel/boot/data-dir-lock.ts';
import { runCapstan, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop('SIGKILL');
});

describe('embedded data directory lock', () => {
  it('refuses a second server and an export on a directory a live server holds, and writes nothing', async () => {
    const dataDir = join(tempDir(), 'data');
    // Its pid file elsewhere, so only the directory lock can tell that the directory is taken.
    const first = await startServer({ args: ['--data-dir', dataDir, '--pid-file', join(tempDir(), 'first.pid')], timeoutMs: 180_000 });
    servers.push(first);
    const second = await runCapstan(['serve', '--port', '0', '--data-dir', dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`data directory ${dataDir} is in use by process ${first.child.pid}`);
    const exported = await runCapstan(['export', '--to', join(tempDir(), 'a.tgz'), '--data-dir', dataDir]);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toContain(`is in use by process ${first.child.pid}`);
    // The first server still owns the lock and still answers.
    expect(JSON.parse(readFileSync(join(dataDir, 'capstan.lock'), 'utf8')).pid).toBe(first.child.pid);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
  }, 300_000);

  it('takes over a lock whose process is gone, and lets the same process claim twice', () => {
    const dir = tempDir();
    // A pid far above pid_max's default cannot be running.
    writeFileSync(join(dir, 'capstan.lock'), JSON.stringify({ pid: 4_194_000, started: '1' }));
    const release = lockDataDir(dir);
    expect(JSON.parse(readFileSync(join(dir, 'capstan.lock'), 'utf8')).pid).toBe(process.pid);
    const again = lockDataDir(dir);
    again();
    release();
    expect(() => readFileSync(join(dir, 'capstan.lock'))).toThrow();
  });

  it('treats a torn lock file as free', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'capstan.lock'), '{"pid": 12');
    const release = lockDataDir(dir);
    expect(JSON.parse(readFileSync(join(dir, 'capstan.lock'), 'utf8')).pid).toBe(process.pid);
    release();
  });
});
