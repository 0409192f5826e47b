/**
 * Every module's `capstan <module> ...` follows one convention, checked in-process (a CLI child costs ~1 s of CPU):
 * a usage error (unknown flag, missing argument, bad value) names the flag on stderr and exits 2 without calling the
 * server; `--help` on every command exits 0; an error answer exits 1 with the problem's detail; data prints as JSON
 * with --json. The workflow commands also run end to end, since their answers are checked against the API document.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/kernel/cli/run.ts';
import type { Command } from '../../src/kernel/cli/command-table.ts';
import { MODULES } from '../../src/main.ts';
import { agentsCommands } from '../../src/modules/agents/api/cli.ts';
import { breederCommands } from '../../src/modules/breeder/api/cli.ts';
import { cascadesCommands } from '../../src/modules/cascades/api/cli.ts';
import { meshCommands } from '../../src/modules/mesh/api/cli.ts';
import { workflowCommands } from '../../src/modules/workflow/api/cli.ts';
import { startTestServer, tempDir, type TestServer } from '../kit/index.ts';

/** Nothing listens here: a usage error must be found before any request (a request would exit 1, not 2). */
const NOWHERE = 'http://127.0.0.1:9';
const dir = tempDir('capstan-cli-codes-');

/** Runs one command line in this process and returns its exit code and output. */
async function capstan(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  try {
    const code = await runCli(argv, MODULES, 'test');
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

/** Every command path of a table (`swarm create` for groups), with its table entry. */
function commandPaths(commands: Record<string, Command>, prefix: string[] = []): string[][] {
  return Object.entries(commands).flatMap(([name, c]) => (c.kind === 'group' ? commandPaths(c.commands, [...prefix, name]) : [[...prefix, name]]));
}

const TABLES: [string, Record<string, Command>][] = [
  ['workflow', workflowCommands.commands],
  ['mesh', meshCommands.commands],
  ['breeder', breederCommands.commands],
  ['cascades', cascadesCommands.commands],
  ['agents', agentsCommands.commands],
];

describe('--help', () => {
  it.each(TABLES.flatMap(([mod, commands]) => commandPaths(commands).map((p) => [mod, p.join(' ')])))('capstan %s %s --help exits 0 with its usage', async (mod, path) => {
    const r = await capstan(mod, ...path.split(' '), '--help', '--server', NOWHERE);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`usage: capstan ${mod} `);
    expect(r.out).toContain('exit codes: 0');
  });

  it.each(TABLES.map(([mod]) => mod))('capstan %s --help lists the commands and exits 0; no command exits 2', async (mod) => {
    const h = await capstan(mod, '--help');
    expect(h.code).toBe(0);
    expect(h.out).toContain(`usage: capstan ${mod} <command>`);
    const none = await capstan(mod);
    expect(none.code).toBe(2);
    expect(none.err).toContain(`usage: capstan ${mod} <command>`);
  });

  // The kernel's own commands print their lines of the main help instead of refusing '--help' as an unknown flag
  // (`capstan serve --help` used to exit 2 with "Unknown option '--help'").
  it.each([
    ['serve', '--data-dir D'],
    ['stop', '--pid-file F'],
    ['migrate', '--config F'],
    ['export', '--to FILE'],
    ['import', '--from FILE'],
    ['config check', 'effective configuration'],
    ['health', '--ready'],
    ['token hash', '<token>'],
    ['status', 'dependency health'],
    ['dev target', '--function'],
    ['dev fake-llm', '--script'],
  ])('capstan %s --help exits 0 with its usage, starting nothing', async (path, expected) => {
    const r = await capstan(...path.split(' '), '--help');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`usage: capstan ${path.split(' ')[0]}`);
    expect(r.out).toContain(expected);
  });
});

describe('usage errors exit 2 naming the flag, before any request', () => {
  it.each([
    [['workflow', 'frobnicate'], "unknown workflow command 'frobnicate'"],
    [['workflow', 'runs', '--bogus'], 'runs does not take --bogus'],
    [['workflow', 'pause', 'r1', '--to', 'x'], 'pause does not take --to'],
    [['workflow', 'show'], 'show needs RUN'],
    [['workflow', 'show', 'r1', 'extra'], "unexpected argument 'extra'"],
    [['workflow', 'apply'], 'apply needs --file'],
    [['workflow', 'apply', '-f', join(dir, 'missing.yaml')], 'cannot read file'],
    [['workflow', 'trigger', 'order'], 'trigger needs --foreign-id'],
    [['workflow', 'trigger', 'order', '--foreign-id', 'x', '--object', '{nope'], '--object must be JSON'],
    [['workflow', 'trigger', 'order', '--foreign-id', 'x', '--object', '{"a": "\\u0000"}'], '--object (body.object.a)'],
    [['workflow', 'trigger', 'Bad Name!', '--foreign-id', 'x'], 'NAME:'],
    [['workflow', 'runs', '--run-state', 'sleeping'], '--run-state:'],
    [['workflow', 'runs', '--limit', '0'], '--limit:'],
    [['workflow', 'callback', 'r1', '--status', 'Asked', '--to', 'x'], '--status:'],
    [['workflow', 'callback', 'r1', '--status', 'asked', '--to', 'Bad'], '--to:'],
    [['mesh', 'nodes', '--bogus'], 'nodes does not take --bogus'],
    [['mesh', 'frobnicate'], "unknown mesh command 'frobnicate'"],
    [['mesh', 'start'], 'start needs NAME'],
    [['mesh', 'move', 'w1'], 'move needs --to'],
    [['mesh', 'apply'], 'apply needs --file'],
    [['mesh', 'apply', '-f', join(dir, 'missing.yaml')], 'cannot read file'],
    [['breeder', 'create', '-f', join(dir, 'missing.yaml')], 'cannot read file'],
    [['agents', 'swarm', 'create', '-f', join(dir, 'missing.yaml')], 'cannot read file'],
    [['mesh', 'cordon', 'n1', 'n2'], "unexpected argument 'n2'"],
    // Checked by the route's own params schema before sending (an empty name would make a path of another route).
    [['mesh', 'start', ''], 'NAME: '],
    [['mesh', 'drain', ''], 'NODE: '],
    [['breeder', 'list', '--bogus'], 'list does not take --bogus'],
    [['breeder', 'update', 'b1'], 'update needs --file'],
    [['breeder', 'trials', 'b1', '--limit', 'lots'], "--limit must be an integer >= 1 <= 1000, got 'lots'"],
    [['breeder', 'show'], 'show needs ID'],
    [['breeder', 'trials', 'b1', '--state', 'done'], '--state: '],
    [['cascades', 'run'], 'run needs FILE|CASCADE'],
    [['cascade', 'run'], 'run needs FILE|CASCADE'],
    [['cascades', 'run', 'blog', '--input', 'topic'], '--input:'],
    [['cascades', 'signal', 's1'], 'signal needs --text'],
    [['cascades', 'respond', 'c1'], 'respond needs --text'],
    [['cascades', 'apply', join(dir, 'missing.yaml')], 'cannot read file'],
    [['cascades', 'show', ''], 'ID: '],
    [['agents', 'spawn', 'do it'], 'spawn needs --repo'],
    [['agents', 'spawn', 'do it', '--repo', '.', '--max-cost', '0'], '--max-cost must be a positive number'],
    [['agents', 'spawn', 'do it', '--repo', '.', '--max-turns', '2.5'], '--max-turns must be an integer'],
    [['agents', 'show'], 'show needs ID'],
    [['agents', 'pause', 'a1', '--reason', 'x'], 'pause does not take --reason'],
    [['agents', 'swarm'], 'agents swarm needs a command'],
    [['agents', 'swarm', 'create'], 'create needs --file'],
    // `capstan swarm` is short for `capstan agents swarm` (the spelling).
    [['swarm', 'create'], 'create needs --file'],
    [['swarm', 'frobnicate'], 'frobnicate'],
    // Checked by the routes' own schemas before sending (the spawn body, the list query, the command name).
    [['agents', 'spawn', 'do it', '--repo', '.', '--priority', 'urgent'], '--priority: '],
    [['agents', 'spawn', 'do it', '--repo', '.', '--base', 'no..branch'], '--base: '],
    [['agents', 'list', '--status', 'sleeping'], '--status: '],
    [['agents', 'ext', 'Bad_Name'], 'NAME: '],
    [['agents', 'swarm', 'show'], 'show needs ID'],
    [['agents', 'audit', 'a1', 'a2'], "unexpected argument 'a2'"],
  ])('capstan %j', async (argv, message) => {
    const r = await capstan(...argv, '--server', NOWHERE);
    expect(r.err).toContain(message);
    expect(r.code).toBe(2);
  });
});

// A server that answers other than its document says (another version, a proxy's page): each module's CLI reports the
// field instead of printing a wrong table. The answers come from a plain HTTP server standing in for such a server.
describe('an answer of another shape than the route documents exits 1 naming the field', () => {
  const wrong: Record<string, unknown> = {
    '/api/v1/mesh/nodes': { items: [{ id: 'n1', labels: 5 }] },
    '/api/v1/breeder/breeders': { breeders: [{ id: 7 }] },
    '/api/v1/cascades/sessions': { items: 'none' },
    '/api/v1/agents/tasks': { items: [{ id: 'a1', dependsOn: 'b1' }] },
    // The stop route documents two successes: 200 with the breeder, 202 while its database is away.
    '/api/v1/breeder/breeders/b1/stop': { breeder: 'b1', status: 'stop_pending', requestedAt: '2026-12-02T18:00:00.000Z', detail: 'database away' },
    '/api/v1/breeder/breeders/b2/stop': { breeder: 'b2', status: 'stopped' },
  };
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(wrong[new URL(req.url ?? '/', 'http://x').pathname] ?? {}));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it.each([
    [['mesh', 'nodes'], 'GET /api/v1/mesh/nodes does not match its schema: items.0.labels'],
    [['breeder', 'list'], 'GET /api/v1/breeder/breeders does not match its schema: breeders.0.id'],
    [['cascades', 'sessions'], 'GET /api/v1/cascades/sessions does not match its schema: items'],
    [['agents', 'tasks'], 'GET /api/v1/agents/tasks does not match its schema: items.0.dependsOn'],
    [['breeder', 'stop', 'b2'], 'POST /api/v1/breeder/breeders/{id}/stop does not match its schema: id'],
  ])('capstan %j', async (argv, message) => {
    const r = await capstan(...argv, '--server', url);
    expect(r.err).toContain(message);
    expect(r.code).toBe(1);
  });

  it('an answer that matches one of several documented successes is taken (a pending breeder stop)', async () => {
    const r = await capstan('breeder', 'stop', 'b1', '--server', url);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('stop_pending');
    expect(r.out).toContain('database away');
  });
});

it('a server that is not there exits 1 saying so', async () => {
  const r = await capstan('workflow', 'definitions', '--server', NOWHERE);
  expect(r.code).toBe(1);
  expect(r.err).toContain(`cannot reach ${NOWHERE}`);
});

describe('against a server', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ modules: MODULES.filter((m) => m.name !== 'workflow') });
  }, 180_000);
  afterAll(() => t?.stop());
  const at = (...argv: string[]) => capstan(...argv, '--server', t.url);

  it.each([
    [['workflow', 'show', 'nope'], "run 'nope' not found"],
    [['workflow', 'trigger', 'nope', '--foreign-id', 'x'], 'not found'],
    [['mesh', 'start', 'nope'], '404'],
    [['breeder', 'show', 'nope'], "breeder 'nope' not found"],
    [['cascades', 'show', 'nope'], '404'],
    [['cascades', 'run', 'nope'], '404'],
    [['agents', 'show', 'nope'], '404'],
    [['agents', 'swarm', 'show', 'nope'], '404'],
  ])('an error answer exits 1 with its detail: %j', async (argv, detail) => {
    const r = await at(...argv);
    expect(r.err).toContain(detail);
    expect(r.code).toBe(1);
  });

  it('mesh: nodes, workloads and leases answer 0 with --json; apply of a spec the API refuses exits 1 naming the field', async () => {
    for (const what of ['nodes', 'workloads', 'leases']) {
      const r = await at('mesh', what, '--json');
      expect(r.code, r.err).toBe(0);
      expect(Array.isArray(JSON.parse(r.out))).toBe(true);
    }
    const file = join(dir, 'w.yaml');
    writeFileSync(file, 'name: w1\ncommand: [sleep]\nreplicas: many\n');
    const r = await at('mesh', 'apply', '-f', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain('400');
    // The move body is parsed by the server (documented, not a zod body): its refusal names the flag the field came from.
    const move = await at('mesh', 'move', 'w1', '--to', 'no such node!');
    expect(move.code).toBe(1);
    expect(move.err).toContain('body.to (--to): ');
  });

  it('cascades: a query value the server refuses names the flag it came from', async () => {
    const sessions = await at('cascades', 'sessions', '--status', 'sleeping');
    expect(sessions.code).toBe(1);
    expect(sessions.err).toContain('query.status (--status): ');
    const checkpoints = await at('cascades', 'checkpoints', '--status', 'open');
    expect(checkpoints.code).toBe(1);
    expect(checkpoints.err).toContain('query.status (--status): ');
  });

  it('agents swarm create -f sends the file as it is: a swarm the server refuses exits 1 naming the field', async () => {
    const file = join(dir, 'swarm.yaml');
    writeFileSync(file, 'name: s1\nstrategy: sideways\n');
    const r = await at('agents', 'swarm', 'create', '-f', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain('body.strategy');
  });

  it('breeder: create -f sends the YAML as it is; show, trials, best (none yet: exit 1), update --force, delete', async () => {
    const file = join(dir, 'b.yaml');
    const def = (low: number) =>
      `name: cli-b\nspace:\n  x: { type: float, low: ${low}, high: 1 }\nobjectives:\n  - { name: v, direction: minimize, source: { http: { url: 'http://127.0.0.1:9/m', path: $.v } } }\neffectuation:\n  http: { url: 'http://127.0.0.1:9/apply' }\n`;
    writeFileSync(file, def(0));
    const created = await at('breeder', 'create', '-f', file, '--json');
    expect(created.code, created.err).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({ name: 'cli-b', status: 'created' });
    const shown = await at('breeder', 'show', 'cli-b');
    expect(shown.out).toMatch(/name\s+cli-b/);
    const trials = await at('breeder', 'trials', 'cli-b', '--state', 'complete', '--json');
    expect(trials.code, trials.err).toBe(0);
    expect(JSON.parse(trials.out)).toMatchObject({ items: [], nextAfter: null });
    const best = await at('breeder', 'best', 'cli-b');
    expect(best.code).toBe(1);
    expect(best.err).toContain('no complete trial yet');
    writeFileSync(file, def(-1));
    const updated = await at('breeder', 'update', 'cli-b', '-f', file, '--force', '--json');
    expect(updated.code, updated.err).toBe(0);
    expect(JSON.parse(updated.out).definition.space.x.low).toBe(-1);
    expect((await at('breeder', 'delete', 'cli-b')).code).toBe(0);
    expect((await at('breeder', 'show', 'cli-b')).code).toBe(1);
  });

  it.each([
    ['breeder', 'list'],
    ['cascades', 'definitions'],
    ['cascades', 'sessions'],
    ['cascades', 'checkpoints'],
    ['agents', 'list'],
    ['agents', 'tasks'],
    ['agents', 'skills'],
    ['agents', 'audit'],
    ['agents', 'swarm', 'list'],
  ])('%s %s %s prints JSON with --json and exits 0', async (...argv) => {
    const r = await at(...argv, '--json');
    expect(r.code, r.err).toBe(0);
    expect(() => JSON.parse(r.out)).not.toThrow();
  });

  it('workflow apply: an invalid file exits 1 naming the field; an oversized one 413; stranding runs 1 unless --force', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nstart: x\nstates:\n  x: { callback: { to: [y] } }\n');
    const b = await at('workflow', 'apply', '-f', bad);
    expect(b.code).toBe(1);
    expect(b.err).toContain('states.x.callback.to.0');
    // Both over the 1 MiB body limit: the app answers 413 (problem+json), and the CLI reports it.
    for (const size of [3_000_000, 1_500_000]) {
      const big = join(dir, `big-${size}.yaml`);
      writeFileSync(big, `name: big\n# ${'x'.repeat(size)}\n`);
      const r = await at('workflow', 'apply', '-f', big);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^capstan: 413 /);
    }
    const file = join(dir, 'gate.yaml');
    writeFileSync(file, 'name: gate\nstart: open\nstates:\n  open: { callback: { to: [closed] } }\n  closed: {}\n');
    expect((await at('workflow', 'apply', '-f', file)).code).toBe(0);
    expect((await at('workflow', 'trigger', 'gate', '--foreign-id', 'g-1')).code).toBe(0);
    writeFileSync(file, 'name: gate\nstart: ajar\nstates:\n  ajar: { callback: { to: [closed] } }\n  closed: {}\n');
    const refused = await at('workflow', 'apply', '-f', file);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('open (1)');
    const forced = await at('workflow', 'apply', '-f', file, '--force');
    expect(forced.code, forced.err).toBe(0);
  });

  it('workflow: apply, trigger (with an idempotency key), runs, show, callback, await, pause, resume, cancel', async () => {
    const file = join(dir, 'approval.yaml');
    writeFileSync(file, 'name: approval\nstart: asked\nstates:\n  asked: { callback: { to: [approved, denied] } }\n  approved: {}\n  denied: {}\n');
    const applied = await at('workflow', 'apply', '-f', file, '--json');
    expect(applied.code, applied.err).toBe(0);
    expect(JSON.parse(applied.out)).toMatchObject({ name: 'approval', kind: 'state-machine', version: 1 });
    const defs = await at('workflow', 'definitions');
    expect(defs.out).toMatch(/NAME\s+KIND\s+VERSION\s+UPDATEDAT\napproval\s+state-machine\s+1/);

    const started = await at('workflow', 'trigger', 'approval', '--foreign-id', 'req-1', '--object', '{"amount": 5}', '--idempotency-key', 'k-1', '--json');
    expect(started.code, started.err).toBe(0);
    const runId: string = JSON.parse(started.out).runId;
    expect(JSON.parse(started.out)).toMatchObject({ status: 'asked', runState: 'running' });

    const runs = await at('workflow', 'runs', '--workflow', 'approval', '--run-state', 'running', '--json');
    expect(runs.code, runs.err).toBe(0);
    expect(JSON.parse(runs.out).map((r: { runId: string }) => r.runId)).toContain(runId);
    const shown = await at('workflow', 'show', runId, '--json');
    expect(JSON.parse(shown.out)).toMatchObject({ runId, status: 'asked', history: [{ version: 1, status: 'asked' }] });

    expect((await at('workflow', 'pause', runId, '--reason', 'lunch')).code).toBe(0);
    // A repeated pause is a retry whose first answer may have been lost: the run as it is, exit 0 (issue 8 §6).
    const again = await at('workflow', 'pause', runId, '--json');
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ runId, runState: 'paused' });
    expect((await at('workflow', 'resume', runId)).code).toBe(0);
    const cb = await at('workflow', 'callback', runId, '--status', 'asked', '--to', 'approved');
    expect(cb.code, cb.err).toBe(0);
    const awaited = await at('workflow', 'await', runId, '--status', 'approved', '--timeout', '5s', '--json');
    expect(awaited.code, awaited.err).toBe(0);
    expect(JSON.parse(awaited.out)).toMatchObject({ status: 'approved', runState: 'completed' });

    const table = await at('workflow', 'runs', '--workflow', 'approval');
    expect(table.out).toMatch(/RUNID\s+WORKFLOW\s+FOREIGNID\s+STATUS/);
    expect(table.out).toContain(runId);
    const unknown = await at('workflow', 'await', runId, '--status', 'shipped', '--timeout', '20s');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('query.status');
    const long = await at('workflow', 'await', runId, '--status', 'approved', '--timeout', '1h');
    expect(long.code).toBe(1);
    expect(long.err).toContain('query.timeout');

    const other = JSON.parse((await at('workflow', 'trigger', 'approval', '--foreign-id', 'req-2', '--json')).out).runId as string;
    const cancelled = await at('workflow', 'cancel', other, '--json');
    expect(cancelled.code, cancelled.err).toBe(0);
    expect(JSON.parse(cancelled.out)).toMatchObject({ runId: other, runState: 'cancelled' });
    // A control the run's state refuses is still an error: 409, exit 1.
    const refused = await at('workflow', 'pause', other);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^capstan: 409 /);
  });
});
