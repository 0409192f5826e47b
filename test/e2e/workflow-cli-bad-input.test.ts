/** `capstan workflow ...` given bad input: a clear message and a non-zero exit code, never a stack or a misleading line. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCapstan, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

const dir = tempDir('capstan-wfcli-bad-');
let server: ServerProcess;
let env: Record<string, string>;
let runId = '';
beforeAll(async () => {
  server = await startServer({ args: ['--data-dir', join(dir, 'data')] });
  env = { CAPSTAN_SERVER: server.url };
  const def = join(dir, 'approval.yaml');
  writeFileSync(def, 'name: approval\nstart: asked\nstates:\n  asked: { callback: { to: [approved, denied] } }\n  approved: {}\n  denied: {}\n');
  expect((await cli('apply', '-f', def)).code).toBe(0);
  const t = await cli('trigger', 'approval', '--foreign-id', 'bad-input-1', '--json');
  runId = JSON.parse(t.stdout).runId;
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const cli = (...args: string[]) => runCapstan(['workflow', ...args], { env });

describe('capstan workflow with bad input', () => {
  it('apply of a file the server refuses for its size says 413 (was "null is not an object")', async () => {
    // Both over the 1 MiB body limit: the app answers 413 (problem+json), and the CLI reports it.
    for (const size of [3_000_000, 1_500_000]) {
      const big = join(dir, `big-${size}.yaml`);
      writeFileSync(big, `name: big\n# ${'x'.repeat(size)}\n`);
      const r = await cli('apply', '-f', big);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^capstan: 413 /);
      expect(r.stderr).not.toContain('null is not an object');
    }
  });

  it('apply to a server that is not there says so', async () => {
    const good = join(dir, 'approval.yaml');
    const r = await runCapstan(['workflow', 'apply', '-f', good], { env: { CAPSTAN_SERVER: 'http://127.0.0.1:9' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach http://127.0.0.1:9');
  });

  it('an extra argument or a flag the command does not take exits 2 naming it (were silently ignored)', async () => {
    const extra = await cli('show', runId, 'extra');
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("unexpected argument 'extra'");
    expect((await cli('runs', 'approval')).code).toBe(2);
    const flag = await cli('pause', runId, '--to', 'approved');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('pause does not take --to');
    expect(JSON.parse((await cli('show', runId, '--json')).stdout).runState).toBe('running');
  });

  it('an object the server cannot store is a usage error naming the flag and the field (checked by the route schema before sending)', async () => {
    const r = await cli('trigger', 'approval', '--foreign-id', 'bad-input-2', '--object', '{"note": "a\\u0000b"}');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--object (body.object.note)');
  });

  it('await on a status the workflow lacks, or for longer than 5m, exits 1 at once naming the field', async () => {
    const unknown = await cli('await', runId, '--status', 'shipped', '--timeout', '20s');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('query.status');
    const long = await cli('await', runId, '--status', 'approved', '--timeout', '1h');
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('query.timeout');
  });
});
