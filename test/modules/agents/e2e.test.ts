/**
 * Agents end to end on PostgreSQL, BullMQ (Redis) and NATS: real git repositories in temp folders, the fake LLM as a
 * child process scripted per agent (header x-capstan-agent), the built-in tool loop editing files in the agent's worktree.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { agentIn, collectEvents, git, makeRepo, startAgentsServer, type AgentsServer } from '../../helpers/agents-server.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { eventually, tempDir } from '../../kit/index.ts';

const fake = fakeLlmForFile();
const FAKE_CLI = join(import.meta.dirname, '../../fixtures/agents/fake-coding-cli.ts');
const SKILLS = tempDir('capstan-skills-');
let s: AgentsServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const prefix = uniqueName('agents').toLowerCase();
beforeAll(async () => {
  db = await createTestDatabase('agents');
  mkdirSync(join(SKILLS, 'release-notes'), { recursive: true });
  writeFileSync(join(SKILLS, 'release-notes', 'SKILL.md'), '---\nname: release-notes\ndescription: Write release notes for a changelog from the git log.\n---\nGroup entries by feature and fix; one line each.\n');
  mkdirSync(join(SKILLS, 'broken'));
  writeFileSync(join(SKILLS, 'broken', 'SKILL.md'), 'no front matter here\n');
  s = await startAgentsServer(fake.baseUrl, { cliRuntimes: { fake: { command: [process.execPath, FAKE_CLI] } }, skillsDirs: [SKILLS], cleanupDelayMs: 300 }, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: prefix } });
}, 180_000);
afterAll(async () => {
  await s?.server.stop();
  await db?.drop();
});

const script = (replies: unknown[]) => fake.script({ sessionHeader: 'x-capstan-agent', replies });
const spawn = async (body: Record<string, unknown>) => {
  const r = await s.api('POST', '/agents', { model: 'fake/agent', ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; branch: string; worktree: string };
};

describe('agents (PostgreSQL, Redis, NATS)', () => {
  it('a scripted agent reads, edits and writes files and finishes: its branch holds the commit', async () => {
    const repo = makeRepo({ 'README.md': '# demo\nhello world\n', 'src/app.ts': 'export const x = 1;\n' });
    await script([
      { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }, { name: 'list_files', arguments: { path: '.', recursive: true } }], usage: { input: 100, output: 10 } },
      { toolCalls: [{ name: 'edit_file', arguments: { path: 'README.md', old_text: 'hello world', new_text: 'hello agents' } }, { name: 'write_file', arguments: { path: 'docs/NOTES.md', content: 'written by an agent\n' } }], usage: { input: 200, output: 20 } },
      { toolCalls: [{ name: 'search', arguments: { pattern: 'agents' } }, { name: 'run_command', arguments: { argv: ['git', 'status', '--short'] } }], usage: { input: 300, output: 30 } },
      { toolCalls: [{ name: 'finish', arguments: { summary: 'greeting changed, notes added' } }], usage: { input: 400, output: 40 } },
    ]);
    const events = await collectEvents(s.url);
    const a = await spawn({ task: 'Change the greeting to agents and add notes', repo });
    expect(a.branch).toBe(`capstan/agent-${a.id}`);
    const done = await agentIn(s.api, a.id, ['completed', 'failed']);
    expect(done.status, done.error).toBe('completed');
    expect(done.result).toBe('greeting changed, notes added');
    expect(done.turn).toBe(4);
    expect(done.tokensIn).toBe(1000);
    expect(done.tokensOut).toBe(100);
    expect(done.cost).toBeCloseTo((1000 * 1 + 100 * 2) / 1e6, 12);
    // The commit is on the agent's branch in the repository; main is untouched.
    expect(done.commitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(git(repo, 'rev-parse', a.branch).trim()).toBe(done.commitSha);
    expect(git(repo, 'show', `${a.branch}:README.md`)).toBe('# demo\nhello agents\n');
    expect(git(repo, 'show', `${a.branch}:docs/NOTES.md`)).toBe('written by an agent\n');
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toBe('# demo\nhello world\n');
    expect(git(repo, 'log', '--format=%s', '-1', a.branch).trim()).toBe(`agent ${a.id}: Change the greeting to agents and add notes`);
    // The diff against the base, and the artifacts.
    const diff = await s.api('GET', `/agents/${a.id}/diff`);
    expect(diff.body.diff).toContain('+hello agents');
    expect(diff.body.diff).toContain('+++ b/docs/NOTES.md');
    expect(readFileSync(join(s.dir, 'artifacts', a.id, 'diff.patch'), 'utf8')).toContain('-hello world');
    // Every turn and tool call is logged, with what the tools answered.
    const logs = (await s.api('GET', `/agents/${a.id}/logs`)).body.items as { kind: string; content: any }[];
    const tools = logs.filter((l) => l.kind === 'tool').map((l) => [l.content.name, l.content.ok]);
    expect(tools).toEqual([['read_file', true], ['list_files', true], ['edit_file', true], ['write_file', true], ['search', true], ['run_command', true], ['finish', true]]);
    expect(logs.find((l) => l.content?.name === 'read_file')!.content.result).toBe('# demo\nhello world\n');
    expect(logs.find((l) => l.content?.name === 'list_files')!.content.result.split('\n')).toEqual(['README.md', 'src/', 'src/app.ts']);
    expect(logs.find((l) => l.content?.name === 'search')!.content.result).toContain('README.md:2: hello agents');
    expect(logs.find((l) => l.content?.name === 'run_command')!.content.result).toMatch(/^exit 0\n[\s\S]*M README.md/);
    // The model was sent the tools natively and saw the tool answers.
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === a.id);
    expect(seen).toHaveLength(4);
    expect(JSON.stringify(seen[0]!.tools)).toContain('edit_file');
    expect(JSON.stringify(seen[1]!.messages)).toContain('hello world');
    await eventually(() => expect(events.events.filter((e) => e.data?.agentId === a.id).map((e) => e.type)).toEqual(['agents.agent.queued', 'agents.agent.started', 'agents.agent.turn', 'agents.agent.turn', 'agents.agent.turn', 'agents.agent.turn', 'agents.agent.completed']));
    events.stop();
  });

  it('refuses escapes: ../, absolute paths, a symlink out of the worktree, .git, denied commands; each is audited', async () => {
    const outside = tempDir('capstan-outside-');
    writeFileSync(join(outside, 'secret.txt'), 'top secret\n');
    const repo = makeRepo({ 'README.md': 'x\n' });
    symlinkSync(outside, join(repo, 'escape'));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'a symlink out');
    await script([
      {
        toolCalls: [
          { name: 'read_file', arguments: { path: '../../../etc/passwd' } },
          { name: 'read_file', arguments: { path: '/etc/passwd' } },
          { name: 'read_file', arguments: { path: 'escape/secret.txt' } },
          { name: 'write_file', arguments: { path: 'escape/planted.txt', content: 'x' } },
          { name: 'write_file', arguments: { path: '.git', content: 'gitdir: /tmp/elsewhere' } },
          { name: 'run_command', arguments: { argv: ['sudo', 'true'] } },
          { name: 'run_command', arguments: { argv: ['/bin/bash', '-c', 'cat /etc/passwd'] } },
          { name: 'run_command', arguments: { argv: ['cat', '/etc/passwd'] } },
          { name: 'run_command', arguments: { argv: ['git', 'push', 'origin', 'main'] } },
        ],
      },
      { toolCalls: [{ name: 'finish', arguments: { summary: 'tried' } }] },
    ]);
    const events = await collectEvents(s.url, 'agents.safety.>');
    const a = await spawn({ task: 'try to escape', repo });
    const done = await agentIn(s.api, a.id, ['completed', 'failed']);
    expect(done.status, done.error).toBe('completed');
    expect(existsSync(join(outside, 'planted.txt'))).toBe(false);
    const audit = (await s.api('GET', `/agents/${a.id}/audit`)).body.items as { tool: string; rule: string; detail: string }[];
    expect(audit.map((r) => `${r.tool}:${r.rule}`).reverse()).toEqual([
      'read_file:path_escape',
      'read_file:absolute_path',
      'read_file:path_escape',
      'write_file:path_escape',
      'write_file:git_dir',
      'run_command:command_denied',
      'run_command:command_denied',
      'run_command:path_escape',
      'run_command:command_denied',
    ]);
    // The model was told each refusal as the tool's answer, and never saw the secret.
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === a.id);
    const toolAnswers = JSON.stringify(seen[1]!.messages);
    expect(toolAnswers).toContain('refused (path_escape)');
    expect(toolAnswers).not.toContain('top secret');
    expect(toolAnswers).not.toContain('root:x:0');
    await eventually(() => expect(events.events.filter((e) => e.data.agentId === a.id)).toHaveLength(9));
    expect(events.events[0]).toMatchObject({ type: 'agents.safety.blocked', data: { tool: 'read_file', rule: 'path_escape' } });
    events.stop();
  });

  it('warns at 80 % of the token budget and stops the agent when it is spent', async () => {
    const repo = makeRepo();
    await script([
      { toolCalls: [{ name: 'list_files', arguments: {} }], usage: { input: 800, output: 50 } },
      { toolCalls: [{ name: 'list_files', arguments: {} }], usage: { input: 900, output: 50 } },
      { toolCalls: [{ name: 'finish', arguments: { summary: 'never reached' } }] },
    ]);
    const events = await collectEvents(s.url, 'agents.budget.>');
    const a = await spawn({ task: 'list files forever', repo, budget: { maxTokens: 1000 } });
    const done = await agentIn(s.api, a.id, ['completed', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.error).toBe('token budget spent (1800 of 1000)');
    expect(done.turn).toBe(2);
    expect((await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === a.id)).toHaveLength(2);
    await eventually(() => expect(events.events.filter((e) => e.data.agentId === a.id).map((e) => [e.type, e.data.tokens])).toEqual([['agents.budget.warning', 850], ['agents.budget.exceeded', 1800]]));
    events.stop();
    // A task that cannot fit its budget at all is refused before anything is made.
    const tiny = await s.api('POST', '/agents', { model: 'fake/agent', task: 'x'.repeat(4000), repo, budget: { maxTokens: 500 } });
    expect(tiny.status).toBe(400);
    expect(tiny.body.errors[0].path).toBe('body.budget.maxTokens');
  });

  it('kill stops the agent at once and kills its running command', async () => {
    const repo = makeRepo();
    await script([{ toolCalls: [{ name: 'run_command', arguments: { argv: ['sleep', '37.25'] } }] }, { toolCalls: [{ name: 'finish', arguments: { summary: 'slept' } }] }]);
    const a = await spawn({ task: 'sleep', repo });
    const sleeping = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\u000037.25\u0000';
      } catch {
        return false;
      }
    });
    await eventually(() => expect(sleeping()).toBe(true), { timeout: 20_000 });
    const k = await s.api('POST', `/agents/${a.id}/kill`, { reason: 'enough' });
    expect(k.status).toBe(200);
    expect(k.body.status).toBe('killed');
    await eventually(() => expect(sleeping()).toBe(false), { timeout: 5_000 });
    const after = await agentIn(s.api, a.id, ['killed']);
    expect(after.error).toBe('enough');
    expect(after.turn).toBe(0);
    expect((await s.api('POST', `/agents/${a.id}/kill`, {})).status).toBe(409);
    expect((await s.api('POST', `/agents/${a.id}/resume`)).status).toBe(409);
  });

  it('pauses between turns and resumes from the last saved turn', async () => {
    const repo = makeRepo();
    await script([
      { toolCalls: [{ name: 'write_file', arguments: { path: 'a.txt', content: 'one\n' } }], delayMs: 1_500 },
      { toolCalls: [{ name: 'write_file', arguments: { path: 'b.txt', content: 'two\n' } }] },
      { toolCalls: [{ name: 'finish', arguments: { summary: 'both written' } }] },
    ]);
    const a = await spawn({ task: 'write two files', repo });
    await agentIn(s.api, a.id, ['running']);
    const p = await s.api('POST', `/agents/${a.id}/pause`);
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    // The turn in flight finishes and is saved; then the agent waits.
    await eventually(async () => {
      const now = (await s.api('GET', `/agents/${a.id}`)).body;
      expect([now.status, now.turn, now.owner]).toEqual(['paused', 1, null]);
      return true;
    });
    expect((await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === a.id)).toHaveLength(1);
    const r = await s.api('POST', `/agents/${a.id}/resume`);
    expect(r.status).toBe(200);
    const done = await agentIn(s.api, a.id, ['completed', 'failed']);
    expect(done.status, done.error).toBe('completed');
    expect(done.turn).toBe(3);
    expect(git(repo, 'show', `${a.branch}:a.txt`)).toBe('one\n');
    expect(git(repo, 'show', `${a.branch}:b.txt`)).toBe('two\n');
    // The resumed run continued the conversation instead of starting over.
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === a.id);
    expect(seen).toHaveLength(3);
    expect(JSON.stringify(seen[1]!.messages)).toContain('wrote 4 bytes to a.txt');
  });

  it('runs an external CLI agent headless in the worktree and reads its JSON lines into logs and token usage', async () => {
    const repo = makeRepo();
    process.env.OPENAI_API_KEY = 'sk-must-not-leak';
    const a = await spawn({ task: 'write the output file', repo, runtime: 'cli', cli: 'fake', model: undefined });
    const done = await agentIn(s.api, a.id, ['completed', 'failed']);
    delete process.env.OPENAI_API_KEY;
    expect(done.status, done.error).toBe('completed');
    expect(done.result).toBe('cli-output.txt written');
    expect([done.tokensIn, done.tokensOut, done.turn]).toEqual([810, 155, 3]);
    // The task arrived on stdin; the server's secrets did not reach the program.
    expect(git(repo, 'show', `${a.branch}:cli-output.txt`)).toBe('task was: write the output file\nsecret visible: no\n');
    const logs = (await s.api('GET', `/agents/${a.id}/logs`)).body.items as { kind: string; content: any; tokensIn?: number }[];
    expect(logs.filter((l) => l.kind === 'output').map((l) => l.content.type ?? l.content.text)).toEqual(['system', 'plain progress text', 'assistant', 'assistant', 'result']);
    expect(logs.filter((l) => l.tokensIn).map((l) => l.tokensIn)).toEqual([600, 200, 10]);
    // A failing CLI fails the agent with its exit code and stderr; a budget stops the program.
    const bad = await spawn({ task: 'please fail', repo, runtime: 'cli', cli: 'fake', model: undefined });
    const failed = await agentIn(s.api, bad.id, ['completed', 'failed']);
    expect(failed.error).toMatch(/exited 3: the fake CLI failed on purpose/);
    const tight = await spawn({ task: 'write', repo, runtime: 'cli', cli: 'fake', model: undefined, budget: { maxTokens: 820 } });
    const stopped = await agentIn(s.api, tight.id, ['completed', 'failed']);
    expect(stopped.error).toBe('token budget spent (950 of 820)');
    expect(stopped.turn).toBe(2);
    const unknown = await s.api('POST', '/agents', { task: 'x', repo, runtime: 'cli', cli: 'nope' });
    expect(unknown.body.errors).toEqual([{ path: 'body.cli', message: "no CLI runtime 'nope'" }]);
  });

  it('lists skills, matches them to the task in the prompt, and lets the agent read one', async () => {
    const list = (await s.api('GET', '/skills')).body;
    expect(list.items.map((k: { name: string; source: string }) => [k.name, k.source === 'builtin'])).toEqual([['git-commits', true], ['release-notes', false], ['writing-tests', true]]);
    expect(list.problems).toEqual([{ source: join(SKILLS, 'broken', 'SKILL.md'), error: 'no front matter (--- name/description ---) at the top' }]);
    const repo = makeRepo();
    await script([{ toolCalls: [{ name: 'read_skill', arguments: { name: 'release-notes' } }] }, { toolCalls: [{ name: 'finish', arguments: { summary: 'read it' } }] }]);
    const a = await spawn({ task: 'Write release notes for the changelog of this release', repo });
    expect((await agentIn(s.api, a.id, ['completed', 'failed'])).status).toBe('completed');
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === a.id);
    const system = JSON.stringify(seen[0]!.messages[0]);
    expect(system).toContain('- release-notes: Write release notes for a changelog from the git log.');
    expect(system).not.toContain('writing-tests');
    expect(JSON.stringify(seen[1]!.messages)).toContain('Group entries by feature and fix');
    const bad = await s.api('POST', '/agents', { task: 'x', repo, model: 'fake/agent', skills: ['git-commits', 'nope'] });
    expect(bad.body.errors).toEqual([{ path: 'body.skills.1', message: "no skill 'nope'" }]);
  });

  it('cleans worktrees up by policy: immediate, delay, and on-success keeps a failed agent’s worktree; the branch always stays', async () => {
    const repo = makeRepo();
    await script([{ toolCalls: [{ name: 'write_file', arguments: { path: 'x.txt', content: 'x\n' } }] }, { toolCalls: [{ name: 'finish', arguments: { summary: 'ok' } }] }]);
    const now = await spawn({ task: 'clean up at once', repo, cleanup: 'immediate' });
    const later = await spawn({ task: 'clean up after a delay', repo, cleanup: 'delay' });
    const failing = await spawn({ task: 'fail and keep the worktree', repo, cleanup: 'on-success', maxTurns: 1 });
    const kept = await spawn({ task: 'keep everything', repo });
    for (const x of [now, later, kept]) expect((await agentIn(s.api, x.id, ['completed', 'failed'])).status).toBe('completed');
    expect((await agentIn(s.api, failing.id, ['completed', 'failed'])).error).toBe('used its 1 turns without finishing');
    expect(existsSync(now.worktree)).toBe(false);
    await eventually(() => expect(existsSync(later.worktree)).toBe(false));
    expect(existsSync(join(failing.worktree, 'x.txt'))).toBe(true);
    expect(existsSync(join(kept.worktree, 'x.txt'))).toBe(true);
    for (const x of [now, later, failing]) expect(git(repo, 'show', `${x.branch}:x.txt`)).toBe('x\n');
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain(now.worktree);
  });

  it('a server restart resumes a running agent from its last saved turn; worktrees default to <dataDir>/agents/worktrees', async () => {
    const repo = makeRepo();
    const env = { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: prefix };
    const dataDir = join(tempDir('capstan-agents-restart-'), 'data');
    const start = () => startAgentsServer(fake.baseUrl, { cliRuntimes: { fake: { command: [process.execPath, FAKE_CLI] } }, skillsDirs: [SKILLS], worktreesDir: undefined, artifactsDir: undefined }, { env, flags: { dataDir } });
    await s.server.stop();
    s = await start();
    await script([
      { toolCalls: [{ name: 'write_file', arguments: { path: 'a.txt', content: 'turn one\n' } }] },
      // Asked of the server that stops meanwhile: the call is aborted and the turn never saved.
      { delayMs: 5_000, toolCalls: [{ name: 'write_file', arguments: { path: 'lost.txt', content: 'never\n' } }] },
      { toolCalls: [{ name: 'write_file', arguments: { path: 'c.txt', content: 'after restart\n' } }] },
      { toolCalls: [{ name: 'finish', arguments: { summary: 'survived a restart' } }] },
    ]);
    const a = await spawn({ task: 'write files across a restart', repo });
    expect(a.worktree).toBe(join(dataDir, 'agents', 'worktrees', a.id));
    await eventually(async () => {
      const x = (await s.api('GET', `/agents/${a.id}`)).body;
      expect([x.status, x.turn]).toEqual(['running', 1]);
      return true;
    });
    // The stopping worker hands the agent back to the queue at its last saved turn (recoveries stays 0: no sweeper needed).
    await s.server.stop();
    s = await start();
    const done = await agentIn(s.api, a.id, ['completed', 'failed'], 60_000);
    expect(done.status, done.error).toBe('completed');
    expect([done.turn, done.recoveries]).toEqual([3, 0]);
    expect(git(repo, 'show', `${a.branch}:a.txt`)).toBe('turn one\n');
    expect(git(repo, 'show', `${a.branch}:c.txt`)).toBe('after restart\n');
    expect(git(repo, 'ls-tree', '--name-only', a.branch).split('\n')).not.toContain('lost.txt');
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === a.id);
    expect(seen).toHaveLength(4);
    expect(JSON.stringify(seen[2]!.messages)).toContain('wrote 9 bytes to a.txt');
    expect(existsSync(join(dataDir, 'agents', 'artifacts', a.id, 'result.md'))).toBe(true);
  });

  it('refuses bad spawns naming the field, and writes nothing', async () => {
    const before = (await s.api('GET', '/agents')).body.items.length;
    const noRepo = await s.api('POST', '/agents', { task: 'x' });
    expect(noRepo.status).toBe(400);
    expect(noRepo.body.errors.map((e: { path: string }) => e.path)).toContain('body.repo');
    const notGit = await s.api('POST', '/agents', { task: 'x', repo: tempDir(), model: 'fake/agent' });
    expect(notGit.status).toBe(400);
    expect(notGit.body.errors).toEqual([{ path: 'body.repo', message: 'not a git repository' }]);
    const badBranch = await s.api('POST', '/agents', { task: 'x', repo: makeRepo(), baseBranch: 'nope', model: 'fake/agent' });
    expect(badBranch.body.errors).toEqual([{ path: 'body.baseBranch', message: 'no such branch' }]);
    const noModel = await s.api('POST', '/agents', { task: 'x', repo: makeRepo() });
    expect(noModel.body.errors).toEqual([{ path: 'body.model', message: 'required' }]);
    const badPriority = await s.api('POST', '/agents', { task: 'x', repo: makeRepo(), model: 'fake/agent', priority: 'urgent' });
    expect(badPriority.body.errors[0].path).toBe('body.priority');
    const badDep = await s.api('POST', '/agents', { task: 'x', repo: makeRepo(), model: 'fake/agent', dependsOn: ['nope'] });
    expect(badDep.body.errors).toEqual([{ path: 'body.dependsOn.0', message: "no agent 'nope'" }]);
    expect((await s.api('GET', '/agents')).body.items.length).toBe(before);
    expect((await s.api('GET', '/agents/nope')).status).toBe(404);
  });
});
