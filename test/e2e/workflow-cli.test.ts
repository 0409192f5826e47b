/** `capstan workflow ...` against a running server: apply, trigger, runs, show, callback, await, pause/resume/cancel. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCapstan, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

const dir = tempDir('capstan-wfcli-');
const APPROVAL = join(dir, 'approval.yaml');
let server: ServerProcess;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startServer({ args: ['--data-dir', join(dir, 'data')] });
  env = { CAPSTAN_SERVER: server.url };
  // The tests that trigger runs need the approval workflow whichever test runs first.
  writeFileSync(APPROVAL, 'name: approval\nstart: asked\nstates:\n  asked: { callback: { to: [approved, denied] } }\n  approved: {}\n  denied: {}\n');
  const applied = await cli('apply', '-f', APPROVAL);
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const cli = (...args: string[]) => runCapstan(['workflow', ...args], { env });

describe('capstan workflow', () => {
  it('apply -f reads a YAML file; invalid files exit 1 naming the field', async () => {
    const r = await cli('apply', '-f', APPROVAL);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/name\s+approval/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nstart: x\nstates:\n  x: { callback: { to: [y] } }\n');
    const b = await cli('apply', '-f', bad);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('states.x.callback.to.0');
  });

  it('trigger, runs (table and --json), show', async () => {
    const t = await cli('trigger', 'approval', '--foreign-id', 'req-1', '--object', '{"amount": 5}', '--json');
    expect(t.code, t.stderr).toBe(0);
    const runId = JSON.parse(t.stdout).runId;
    const table = await cli('runs', '--workflow', 'approval');
    expect(table.stdout).toMatch(/RUNID\s+WORKFLOW\s+FOREIGNID\s+STATUS/);
    expect(table.stdout).toContain(runId);
    const json = JSON.parse((await cli('runs', '--json')).stdout) as { runId: string }[];
    expect(json.map((r) => r.runId)).toContain(runId);
    const show = await cli('show', runId);
    expect(show.stdout).toContain('asked');
  });

  it('pause, resume, callback and await', async () => {
    const t = await cli('trigger', 'approval', '--foreign-id', 'req-2', '--json');
    expect(t.code, t.stderr).toBe(0);
    const runId = JSON.parse(t.stdout).runId as string;
    expect((await cli('pause', runId, '--reason', 'lunch')).code).toBe(0);
    expect((await cli('pause', runId)).code).toBe(1);
    expect((await cli('resume', runId)).code).toBe(0);
    const cb = await cli('callback', runId, '--status', 'asked', '--to', 'approved');
    expect(cb.code, cb.stderr).toBe(0);
    const a = await cli('await', runId, '--status', 'approved', '--timeout', '5s', '--json');
    expect(JSON.parse(a.stdout)).toMatchObject({ status: 'approved', runState: 'completed' });
  });

  it('usage errors exit 2; unknown runs exit 1', async () => {
    expect((await cli('trigger', 'approval')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    const missing = await cli('show', 'no-such-run');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
  });

  it('apply refuses to strand waiting runs (exit 1 naming the status) and goes through with --force', async () => {
    const file = join(dir, 'gate.yaml');
    writeFileSync(file, 'name: gate\nstart: open\nstates:\n  open: { callback: { to: [closed] } }\n  closed: {}\n');
    expect((await cli('apply', '-f', file)).code).toBe(0);
    expect((await cli('trigger', 'gate', '--foreign-id', 'g-1')).code).toBe(0);
    writeFileSync(file, 'name: gate\nstart: ajar\nstates:\n  ajar: { callback: { to: [closed] } }\n  closed: {}\n');
    const refused = await cli('apply', '-f', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('open (1)');
    const forced = await cli('apply', '-f', file, '--force');
    expect(forced.code, forced.stderr).toBe(0);
  });
});
