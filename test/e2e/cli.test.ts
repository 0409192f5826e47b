/** The `capstan` command line, from source and as the single binary built by the test command. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { hashToken } from '../../src/kernel/http/auth.ts';
import { REPO_ROOT, runCapstan, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

const BINARY = join(REPO_ROOT, 'dist/capstan');
const dir = tempDir('capstan-cli-');

describe('capstan CLI', () => {
  it('prints the version and help', async () => {
    const v = await runCapstan(['version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = await runCapstan(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('serve [--role api|worker|all]');
    expect(h.stdout).toContain('config check');
  });

  it('exits 2 with a message for unknown commands and flags', async () => {
    const c = await runCapstan(['frobnicate']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("unknown command 'frobnicate'");
    const f = await runCapstan(['serve', '--prot', '1']);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('--prot');
    const p = await runCapstan(['serve', '--port', 'http']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('--port');
  });

  it('config check prints the effective config with secrets redacted', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, `server: { port: 7171 }\nauth:\n  tokens: [{name: ops, sha256: ${hashToken('s3cret')}, scopes: [admin]}]\n`);
    const r = await runCapstan(['config', 'check', '--config', file], { env: { DATABASE_URL: 'postgres://u:hunter2@127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1:6379', NATS_URL: 'nats://127.0.0.1:4222' } });
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.stdout);
    expect(cfg.server.port).toBe(7171);
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain(hashToken('s3cret'));
  });

  it('config check exits 2 naming every bad field', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  port: -1\n  rol: api\nprefix: Not-Valid\n');
    const r = await runCapstan(['config', 'check', '--config', file]);
    expect(r.code).toBe(2);
    for (const field of ['server.port', 'server.rol', 'prefix']) expect(r.stderr).toContain(field);
  });

  it('migrate applies the migrations once, then reports the database up to date', async () => {
    const env = { CAPSTAN_DATA_DIR: join(dir, 'migrate-data') };
    const first = await runCapstan(['migrate'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^applied: kernel\/0000_kernel_outbox, /);
    const again = await runCapstan(['migrate'], { env });
    expect(again.stdout.trim()).toBe('database is up to date');
  });

  it('token hash prints the SHA-256 for the config', async () => {
    const r = await runCapstan(['token', 'hash', 'abc']);
    expect(r.stdout.trim()).toBe(hashToken('abc'));
  });
});

describe('capstan status against a running server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ args: ['--data-dir', join(dir, 'status-data')] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('prints a table by default and JSON with --json', async () => {
    const t = await runCapstan(['status', '--server', server.url]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('embedded mode');
    expect(t.stdout).toMatch(/DEPENDENCY\s+KIND\s+OK/);
    const j = await runCapstan(['status', '--json'], { env: { CAPSTAN_SERVER: server.url } });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ mode: 'embedded', version: pkg.version });
  });

  it('fails with exit 1 and a clear message when no server answers', async () => {
    const r = await runCapstan(['status', '--server', 'http://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach http://127.0.0.1:9');
  });

  it('shuts down gracefully on SIGTERM with exit 0', async () => {
    const s = await startServer({ args: ['--data-dir', join(dir, 'sigterm-data')] });
    const code = await s.stop('SIGTERM');
    expect(code, `exit ${code} signal ${s.child.signalCode}; output:\n${s.output()}`).toBe(0);
    expect(s.output()).toContain('shutdown complete');
  });
});

describe('capstan stop', () => {
  /** A pid no process has: one that has just exited. */
  const deadPid = () => spawnSync('true').pid;

  it('stops the server of a data directory through its pid file: exit 0, the server exited 0 and removed the file', async () => {
    const data = join(dir, 'stop-data');
    const pidFile = join(data, 'serve.pid');
    // A pid file a killed server left behind is replaced.
    mkdirSync(data, { recursive: true });
    writeFileSync(pidFile, `${deadPid()}\n`);
    const s = await startServer({ args: ['--data-dir', data] });
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(s.child.pid));
    const r = await runCapstan(['stop', '--data-dir', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`stopped capstan serve (pid ${s.child.pid})`);
    expect(await s.stop()).toBe(0);
    expect(s.output()).toContain('shutdown complete');
    expect(existsSync(pidFile)).toBe(false);
  }, 120_000);

  it('with --pid-file, on both sides', async () => {
    const pidFile = join(dir, 'custom', 'capstan.pid');
    const s = await startServer({ args: ['--data-dir', join(dir, 'custom-data'), '--pid-file', pidFile] });
    expect(existsSync(join(dir, 'custom-data', 'serve.pid'))).toBe(false);
    const r = await runCapstan(['stop', '--pid-file', pidFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(await s.stop()).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  }, 120_000);

  it('exits 1 saying so when no server runs, and removes a pid file its dead server left', async () => {
    const none = await runCapstan(['stop', '--data-dir', join(dir, 'never-served')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no server running: no pid file at');
    const data = join(dir, 'stale-data');
    mkdirSync(data, { recursive: true });
    const pid = deadPid();
    writeFileSync(join(data, 'serve.pid'), `${pid}\n`);
    const stale = await runCapstan(['stop', '--data-dir', data]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`process ${pid} is gone; removed the stale pid file`);
    expect(existsSync(join(data, 'serve.pid'))).toBe(false);
  }, 60_000);

  it('exits 2 when given both --data-dir and --pid-file, or an unknown flag', async () => {
    const both = await runCapstan(['stop', '--data-dir', dir, '--pid-file', join(dir, 'x.pid')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--data-dir or --pid-file, not both');
    expect((await runCapstan(['stop', '--pdi-file', 'x'])).code).toBe(2);
  }, 60_000);
});

// The test command builds dist/capstan before vitest runs; a missing binary is a failure, not a skip.
describe('single binary', () => {
  it('dist/capstan version prints the version', async () => {
    expect(existsSync(BINARY), 'dist/capstan is missing: run `bun run build`').toBe(true);
    const r = await runCapstan(['version'], { binary: BINARY });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('dist/capstan serve answers /healthz and /readyz in embedded mode (PGlite inside the binary)', async () => {
    // At info level: the 'migrations applied' line is what shows the embedded copies ran.
    const s = await startServer({ binary: BINARY, args: ['--data-dir', join(dir, 'binary-data')], env: { CAPSTAN_LOG_LEVEL: 'info' } });
    try {
      const health = await fetch(`${s.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = (await (await fetch(`${s.url}/readyz`)).json()) as { status: string };
      expect(ready.status).toBe('ready');
      // The binary has no SQL files: it applied the embedded copies, the kernel's journal first, then each module's.
      const applied = s.output().match(/"applied":(\[[^\]]*\])/);
      expect(applied, s.output()).not.toBeNull();
      const names = JSON.parse(applied![1]!) as string[];
      expect(names[0]).toBe('kernel/0000_kernel_outbox');
      expect(names).toEqual(expect.arrayContaining(['workflow/0000_workflow_tables', 'cascades/0000_cascades_tables', 'breeder/0000_breeder_tables', 'agents/0000_agents_tables']));
    } finally {
      expect(await s.stop('SIGTERM')).toBe(0);
    }
  });
});
