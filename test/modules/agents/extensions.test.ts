/**
 * Extensions on PostgreSQL, Redis and NATS: files in a temp extensions folder register a tool (used by a scripted agent),
 * a command (run through the real CLI) and event handlers; broken files are listed with their error and skipped; the
 * server runs with server.dev (serve --dev), so changed, new and removed files are reloaded.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { agentIn, makeRepo, startAgentsServer, type AgentsServer } from '../../helpers/agents-server.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { runCapstan } from '../../helpers/server-process.ts';
import { eventually, tempDir } from '../../kit/index.ts';

const fake = fakeLlmForFile();
const EXT = tempDir('capstan-extensions-');
const SEEN = join(EXT, 'seen.log');

/** A good extension: a tool that counts words of a worktree file, a command, a handler that notes completed agents. */
const wordsExtension = (greeting: string) => `
import { appendFileSync, readFileSync } from 'node:fs';
export default function (capstan) {
  capstan.registerTool({
    name: 'word_count',
    description: 'Count the words of a file in your worktree.',
    parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    run(args, ctx) {
      const text = readFileSync(ctx.resolvePath(args.path), 'utf8');
      return { path: args.path, words: text.split(/\\s+/).filter(Boolean).length, agent: ctx.agentId };
    },
  });
  capstan.registerCommand({ name: 'greet', description: 'says hello', run(argv, io) { io.print('${greeting} ' + argv.join(' ')); return argv.length === 0 ? 3 : 0; } });
  capstan.registerCommand({ name: 'explode', description: 'throws', run() { throw new Error('command broke'); } });
  capstan.on('agents.agent.completed', (e) => appendFileSync(${JSON.stringify(SEEN)}, e.data.agentId + '\\n'));
}
`;

let s: AgentsServer;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const prefix = uniqueName('agentsext').toLowerCase();
beforeAll(async () => {
  db = await createTestDatabase('agentsext');
  writeFileSync(join(EXT, 'words.ts'), wordsExtension('hello'));
  writeFileSync(join(EXT, 'throws.ts'), "export default function () { throw new Error('cannot start'); }\n");
  writeFileSync(join(EXT, 'no-function.js'), 'export const setup = 1;\n');
  writeFileSync(join(EXT, 'taken.ts'), "export default (c) => c.registerTool({ name: 'read_file', description: 'mine', run: () => 'x' });\n");
  writeFileSync(join(EXT, 'grumpy.js'), "export default (c) => c.on('agents.agent.completed', () => { throw new Error('handler boom'); });\n");
  writeFileSync(join(EXT, 'twins.js'), "export default (c) => { c.on('agents.>', () => {}, { name: 'same' }); c.on('agents.agent.*', () => {}, { name: 'same' }); };\n");
  writeFileSync(join(EXT, 'notes.md'), 'not an extension\n');
  s = await startAgentsServer(fake.baseUrl, { extensionsDir: EXT, extensionMaxDeliver: 2 }, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL, CAPSTAN_PREFIX: prefix }, flags: { 'server.dev': true } });
}, 180_000);
afterAll(async () => {
  await s?.server.stop();
  await db?.drop();
});

const extensions = async () => (await s.api('GET', '/extensions')).body.items as { name: string; status: string; error?: string; tools: string[]; commands: { name: string }[]; events: string[]; handlerErrors: { type: string; error: string }[] }[];
const byName = async (name: string) => (await extensions()).find((e) => e.name === name);

describe('agents extensions', () => {
  it('loads the good files and lists the broken ones with their error, skipped', async () => {
    const list = await extensions();
    expect(list.map((e) => [e.name, e.status])).toEqual([
      ['grumpy', 'loaded'],
      ['no-function', 'failed'],
      ['taken', 'failed'],
      ['throws', 'failed'],
      ['twins', 'failed'],
      ['words', 'loaded'],
    ]);
    const words = list.find((e) => e.name === 'words')!;
    expect(words).toMatchObject({ tools: ['word_count'], commands: [{ name: 'greet' }, { name: 'explode' }], events: ['agents.agent.completed'] });
    expect(list.find((e) => e.name === 'throws')!.error).toBe('cannot start');
    expect(list.find((e) => e.name === 'no-function')!.error).toContain('not a function');
    expect(list.find((e) => e.name === 'taken')!.error).toBe("tool 'read_file' is a built-in tool");
    // A handler's name names its durable subscription: two handlers of one file cannot share it.
    expect(list.find((e) => e.name === 'twins')!.error).toBe("handler name 'same' is used twice");
  });

  it("an agent calls an extension's tool; an allow list without it hides and refuses it; unknown names are a 400", async () => {
    const repo = makeRepo({ 'README.md': 'one two three four\n' });
    const script = (replies: unknown[]) => fake.script({ sessionHeader: 'x-capstan-agent', replies });
    await script([{ toolCalls: [{ name: 'word_count', arguments: { path: 'README.md' } }, { name: 'word_count', arguments: { path: '../../etc/passwd' } }] }, { toolCalls: [{ name: 'finish', arguments: { summary: 'counted' } }] }]);
    const a = (await s.api('POST', '/agents', { model: 'fake/agent', task: 'count words', repo })).body as { id: string };
    const done = await agentIn(s.api, a.id, ['completed', 'failed']);
    expect(done.status, done.error).toBe('completed');
    const logs = (await s.api('GET', `/agents/${a.id}/logs`)).body.items as { kind: string; content: any }[];
    const calls = logs.filter((l) => l.kind === 'tool' && l.content.name === 'word_count');
    expect(JSON.parse(calls[0]!.content.result)).toEqual({ path: 'README.md', words: 4, agent: a.id });
    expect(calls[1]!.content).toMatchObject({ ok: false });
    expect(calls[1]!.content.result).toMatch(/^refused \(path_escape\)/);
    const audit = (await s.api('GET', `/agents/${a.id}/audit`)).body.items as { tool: string; rule: string }[];
    expect(audit.map((r) => `${r.tool}:${r.rule}`)).toEqual(['word_count:path_escape']);
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === a.id);
    expect(JSON.stringify(seen[0]!.tools)).toContain('word_count');

    // With an allow list that leaves it out, the model is not offered the tool and a call is refused.
    await script([{ toolCalls: [{ name: 'word_count', arguments: { path: 'README.md' } }] }, { toolCalls: [{ name: 'finish', arguments: { summary: 'tried' } }] }]);
    const b = (await s.api('POST', '/agents', { model: 'fake/agent', task: 'count words', repo, tools: { allow: ['read_file'] } })).body as { id: string };
    expect((await agentIn(s.api, b.id, ['completed', 'failed'])).status).toBe('completed');
    const seenB = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-agent'] === b.id);
    expect(JSON.stringify(seenB[0]!.tools)).not.toContain('word_count');
    const auditB = (await s.api('GET', `/agents/${b.id}/audit`)).body.items as { tool: string; rule: string }[];
    expect(auditB.map((r) => `${r.tool}:${r.rule}`)).toEqual(['word_count:tool_denied']);

    const bad = await s.api('POST', '/agents', { model: 'fake/agent', task: 'x', repo, tools: { allow: ['read_file', 'no_such_tool'] } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('body.tools.allow.1');

    // Handlers: the good one noted both completed agents; the one that throws is listed with its errors (each event is
    // delivered to it again, extensionMaxDeliver = 2 times in all), the server goes on.
    await eventually(() => expect(readFileSync(SEEN, 'utf8').split('\n').filter(Boolean).sort()).toEqual([a.id, b.id].sort()));
    await eventually(async () => expect((await byName('grumpy'))!.handlerErrors.map((e) => [e.type, e.error])).toEqual(Array(4).fill(['agents.agent.completed', 'handler boom'])));
    expect((await byName('grumpy'))!.status).toBe('loaded');
  });

  it('runs commands on the server, through the CLI too; exit codes are passed on', async () => {
    expect((await s.api('POST', '/extensions/commands/greet', { argv: ['bob'] })).body).toEqual({ exitCode: 0, output: ['hello bob'] });
    expect((await s.api('POST', '/extensions/commands/explode', { argv: [] })).body).toEqual({ exitCode: 1, output: ['error: command broke'] });
    expect((await s.api('POST', '/extensions/commands/missing', { argv: [] })).status).toBe(404);
    const bad = await s.api('POST', '/extensions/commands/greet', { argv: 'bob' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('body.argv');
    // The real program as a child process (asynchronously: this process serves the requests).
    const cli = (...argv: string[]) => runCapstan(['agents', ...argv, '--server', s.url], { env: { CAPSTAN_TOKEN: undefined } });
    const ok = await cli('ext', 'greet', 'alice', '--', '--loud');
    expect([ok.code, ok.stdout.trim()], ok.stderr).toEqual([0, 'hello alice --loud']);
    const three = await cli('ext', 'greet');
    expect([three.code, three.stdout.trim()], three.stderr).toEqual([3, 'hello']);
    const listed = await cli('extensions', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((e) => e.name)).toContain('words');
  });

  it('under serve --dev a changed file is reloaded, a broken change unloads it, a new file loads, a removed one goes', async () => {
    writeFileSync(join(EXT, 'words.ts'), wordsExtension('howdy'));
    await eventually(async () => expect((await s.api('POST', '/extensions/commands/greet', { argv: ['bob'] })).body).toEqual({ exitCode: 0, output: ['howdy bob'] }));
    writeFileSync(join(EXT, 'words.ts'), 'export default function (capstan) { capstan.registerTool({ name: 42 }); }\n');
    await eventually(async () => expect(await byName('words')).toMatchObject({ status: 'failed', tools: [] }));
    expect((await byName('words'))!.error).toContain("tool name '42'");
    expect((await s.api('POST', '/extensions/commands/greet', { argv: [] })).status).toBe(404);
    writeFileSync(join(EXT, 'throws.ts'), "export default (c) => c.registerCommand({ name: 'fixed', description: '', run: (_a, io) => io.print('works now') });\n");
    await eventually(async () => expect(await byName('throws')).toMatchObject({ status: 'loaded', commands: [{ name: 'fixed' }] }));
    writeFileSync(join(EXT, 'later.js'), "export default (c) => c.registerCommand({ name: 'later', description: '', run: (_a, io) => io.print('new') });\n");
    await eventually(async () => expect((await s.api('POST', '/extensions/commands/later', { argv: [] })).body).toEqual({ exitCode: 0, output: ['new'] }));
    rmSync(join(EXT, 'grumpy.js'));
    await eventually(async () => expect(await byName('grumpy')).toBeUndefined());
    expect(existsSync(join(EXT, 'notes.md'))).toBe(true);
    expect((await extensions()).map((e) => e.name)).not.toContain('notes');
  });
});
