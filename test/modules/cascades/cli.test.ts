/** `capstan cascades ...` against a running embedded server and the fake LLM: run --follow, sessions, show, logs, respond, cancel, bad input. */
import { readFileSync, writeFileSync } from 'node:fs';
import { eventually } from '../../helpers/async.ts';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { FAST_CASCADES, fakeLlmConfig } from '../../helpers/cascades-server.ts';
import { SNAPSHOT_FORMAT } from '../../../src/modules/cascades/model/snapshot.ts';
import { runCapstan, startServer, tempDir, type ServerProcess } from '../../helpers/server-process.ts';

const fake = fakeLlmForFile();
const dir = tempDir('capstan-cascli-');
let server: ServerProcess;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startServer({
    args: ['--data-dir', join(dir, 'data')],
    env: { CAPSTAN_LLM: JSON.stringify(fakeLlmConfig(fake.baseUrl)), CAPSTAN_MODULES__CASCADES: JSON.stringify(FAST_CASCADES) },
    timeoutMs: 170_000,
  });
  env = { CAPSTAN_SERVER: server.url };
}, 180_000); // the server process starts a fresh PGlite: 55 s seen under load
afterAll(async () => {
  await server?.stop();
});

const cli = (...args: string[]) => runCapstan(['cascades', ...args], { env });

// Every step spawns a CLI process (bun loading src/main.ts); under a load of 25 on two cores that took several seconds each.
describe('capstan cascades', { timeout: 120_000 }, () => {
  it('run FILE --input k=v --follow saves the cascade, runs it to the end and prints its log', async () => {
    const file = join(dir, 'blog.yaml');
    writeFileSync(file, 'cascade_id: blog\ninputs_schema: { topic: { type: string } }\nmodel: fake/gpt-test\nphases:\n  - name: research\n    instructions: "Research {{ input.topic }}"\n  - name: draft\n    instructions: "Draft"\n    context: { from: [research] }\n');
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'found things' }, { text: 'a draft' }] });
    const r = await cli('run', file, '--input', 'topic=tides', '--follow');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('[research] assistant');
    expect(r.stdout).toMatch(/status\s+completed/);
    const id = /session (\S+)/.exec(r.stdout)![1]!;
    const seen = (await fake.stats()).requests;
    expect(JSON.stringify(seen[0]!.messages)).toContain('Research tides');

    const list = await cli('sessions', '--cascade', 'blog');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id);
    const show = await runCapstan(['cascades', 'show', id, '--json'], { env });
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout).outputs).toEqual({ research: 'found things', draft: 'a draft' });
    const logs = await cli('logs', id);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/draft\s+\S*\s*phase|phase/);
  });

  it('respond answers a pending checkpoint; cancel ends a session; a second cancel exits 1', async () => {
    const file = join(dir, 'human.yaml');
    writeFileSync(file, 'cascade_id: human\nmodel: fake/gpt-test\nphases:\n  - name: ask\n    human_input: { prompt: "Ship?" }\n  - name: act\n    instructions: "Act"\n');
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'acted' }] });
    const run = await cli('run', file, '--follow');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/status\s+blocked/);
    const cps = await runCapstan(['cascades', 'checkpoints', '--status', 'pending', '--json'], { env });
    const cp = (JSON.parse(cps.stdout) as { id: string; prompt: string }[]).find((c) => c.prompt === 'Ship?')!;
    const answered = await cli('respond', cp.id, '--text', 'yes');
    expect(answered.code, answered.stderr).toBe(0);

    await fake.script({ sessionHeader: 'x-capstan-session', replies: [{ text: 'slow', delayMs: 20_000 }] });
    const slow = await cli('run', 'human');
    const id = /sessionId\s+(\S+)/.exec(slow.stdout)![1]!;
    expect((await cli('cancel', id, '--reason', 'nope')).code).toBe(0);
    const again = await cli('cancel', id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already ended \(cancelled\)/);
  });

  it('bad input: an invalid file names the field, an --input without = is a usage error (2), one of the wrong type a refused request (1), unknown commands exit 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'cascade_id: bad\nmodel: m\nphases:\n  - name: a\n    instructions: x\n    max_turns: 0\n');
    const r = await cli('run', bad);
    expect(r.code).toBe(1);
    const refusal = (stderr: string) => stderr.split('\n').find((l) => l.includes('max_turns'));
    expect(refusal(r.stderr), r.stderr).toMatch(/^ {2}body\.phases\.0\.max_turns: /);
    // The local check of `test run --definition` names the field exactly as the server's answer did.
    const snap = join(dir, 'minimal-snap.json');
    writeFileSync(snap, JSON.stringify({ format: SNAPSHOT_FORMAT, cascadeId: 'bad', frozenAt: new Date().toISOString(), spec: {}, recording: { sessionId: 's', inputs: {}, replies: {}, answers: {} }, phases: [], status: 'completed' }));
    const local = await cli('test', 'run', snap, '--definition', bad);
    expect(local.code, local.stderr).toBe(1);
    expect(refusal(local.stderr), local.stderr).toBe(refusal(r.stderr));
    const noEq = await cli('run', 'blog', '--input', 'topic');
    expect(noEq.code).toBe(2);
    expect(noEq.stderr).toContain('key=value');
    const wrongType = await cli('run', 'blog', '--input', 'topic=5');
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toContain('inputs.topic');
    expect((await cli('frobnicate')).code).toBe(2);
  });

  it('test freeze records a finished session; test run replays it with no network: unchanged exits 0, a changed prompt names its phase and exits 1', async () => {
    const SNAP = 'cascade_id: snap\ninputs_schema: { topic: { type: string } }\nmodel: fake/gpt-test\nphases:\n  - name: research\n    instructions: "Research {{ input.topic }}; note with set_state."\n    tools: [set_state]\n  - name: approve\n    human_input: { prompt: "OK?" }\n  - name: draft\n    instructions: "Draft about {{ input.topic }} from {{ state.note }}"\n    context: { from: [research, approve] }\n    output_schema: { type: object, required: [title], properties: { title: { type: string } } }\n';
    const file = join(dir, 'snap.yaml');
    writeFileSync(file, SNAP);
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [{ toolCalls: [{ name: 'set_state', arguments: { key: 'note', value: 'moon' } }] }, { text: 'tides follow the moon' }, { json: { title: 'Tides' } }],
    });
    const started = await cli('run', file, '--input', 'topic=tides', '--follow');
    expect(started.code, started.stderr).toBe(0);
    const id = /session (\S+)/.exec(started.stdout)![1]!;
    const cps = await runCapstan(['cascades', 'checkpoints', '--status', 'pending', '--json'], { env });
    const cp = (JSON.parse(cps.stdout) as { id: string; sessionId: string }[]).find((c) => c.sessionId === id)!;
    expect((await cli('respond', cp.id, '--text', 'approved')).code).toBe(0);
    const show = await eventuallyCompleted(id);
    expect(show.outputs).toEqual({ research: 'tides follow the moon', approve: 'approved', draft: { title: 'Tides' } });

    const snapFile = join(dir, 'snap.json');
    const frozen = await cli('test', 'freeze', id, '-o', snapFile);
    expect(frozen.code, frozen.stderr).toBe(0);
    expect(frozen.stderr).not.toContain('warning');
    const snap = JSON.parse(readFileSync(snapFile, 'utf8'));
    expect(snap.phases.map((p: { phase: string }) => p.phase)).toEqual(['research', 'approve', 'draft']);
    expect(snap.phases[2].output).toEqual({ title: 'Tides' });

    const calls = (await fake.stats()).requests.length;
    const same = await cli('test', 'run', snapFile);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toContain('ok: 3 phases unchanged');
    const changedFile = join(dir, 'snap-changed.yaml');
    writeFileSync(changedFile, SNAP.replace('Draft about', 'Write a short post about'));
    const changed = await cli('test', 'run', snapFile, '--definition', changedFile);
    expect(changed.code, changed.stdout + changed.stderr).toBe(1);
    expect(changed.stdout).toContain('phase draft: input changed');
    expect(changed.stdout).not.toMatch(/^phase research/m);
    expect(changed.stdout).toContain('1 phase(s) changed');
    // Replays answer from the file: the fake server saw no call.
    expect((await fake.stats()).requests.length).toBe(calls);

    const running = await cli('run', file, '--input', 'topic=x');
    const blockedId = /sessionId\s+(\S+)/.exec(running.stdout)![1]!;
    const early = await cli('test', 'freeze', blockedId);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/freeze it once it has ended/);
    const notSnap = await cli('test', 'run', changedFile);
    expect(notSnap.code).toBe(1);
    expect(notSnap.stderr).toMatch(/not JSON/);
  }, 300_000); // eleven CLI processes; each took 5-10 s under a load of 20+
});

/** The session once completed (as `show --json` prints it). */
async function eventuallyCompleted(id: string): Promise<Record<string, any>> {
  return eventually('session completed', async () => {
    const r = await runCapstan(['cascades', 'show', id, '--json'], { env });
    const s = r.code === 0 ? JSON.parse(r.stdout) : undefined;
    return s?.status === 'completed' ? s : undefined;
  }, 60_000);
}
