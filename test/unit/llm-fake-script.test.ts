/** The fake LLM server's script: parsing names bad fields; the player picks replies by order, rule, use count and session. */
import { describe, expect, it } from 'vitest';
import { Invalid } from '../../src/kernel/errors.ts';
import { ScriptPlayer, type RequestView } from '../../src/kernel/llm/fake/script-player.ts';
import { parseScript } from '../../src/kernel/llm/fake/script.ts';
import { devCommands } from '../../src/kernel/cli/dev.ts';
import type { Module } from '../../src/kernel/module.ts';

function req(lastUser: string, headers: Record<string, string> = {}, model = 'm'): RequestView {
  return { model, lastUser, header: (n) => headers[n.toLowerCase()] ?? null };
}

function invalid(text: string): string[] {
  try {
    parseScript(text);
  } catch (err) {
    if (err instanceof Invalid) return err.issues.map((i) => i.path);
    throw err;
  }
  throw new Error('expected Invalid');
}

describe('fake LLM script', () => {
  it('parses YAML and names each bad field', () => {
    expect(parseScript('replies:\n  - text: hi\n    times: 2\n').replies[0]).toMatchObject({ text: 'hi', times: 2 });
    expect(invalid('replies:\n  - text: hi\n    error: { status: 500 }\n')).toEqual(['replies.0.error']);
    expect(invalid('replies:\n  - error: { status: 200 }\n')).toEqual(['replies.0.error.status']);
    expect(invalid('replies:\n  - match: { lastUser: "/([/" }\n')).toEqual(['replies.0.match.lastUser']);
    expect(invalid('replies:\n  - txt: typo\n')).toEqual(['replies.0.txt']);
    expect(invalid('replies:\n  - toolCalls: [{ name: f, arguments: {}, rawArguments: "{" }]\n')).toEqual(['replies.0.toolCalls.0.rawArguments']);
  });

  it('plays replies in order, each `times` times, then `otherwise` (or echo)', () => {
    const p = new ScriptPlayer(parseScript('replies:\n  - { text: a, times: 2 }\n  - { text: b }\notherwise: { text: z }\n'));
    expect([p.next(req('x')), p.next(req('x')), p.next(req('x')), p.next(req('x'))].map((r) => r?.text)).toEqual(['a', 'a', 'b', 'z']);
    p.reset();
    expect(p.next(req('x'))?.text).toBe('a');
    expect(new ScriptPlayer(parseScript('replies: []')).next(req('x'))).toBeUndefined();
  });

  it('matches by last user message (substring or /regex/), header and model', () => {
    const p = new ScriptPlayer(
      parseScript(`replies:
  - { match: { lastUser: "/^weather in (paris|rome)$/i" }, text: sunny, times: always }
  - { match: { lastUser: refund }, text: no, times: always }
  - { match: { header: { x-tenant: acme } }, text: acme, times: always }
  - { match: { model: big }, text: big, times: always }
`),
    );
    expect(p.next(req('Weather in Rome'))?.text).toBe('sunny');
    expect(p.next(req('I want a refund now'))?.text).toBe('no');
    expect(p.next(req('hello', { 'x-tenant': 'acme' }))?.text).toBe('acme');
    expect(p.next(req('hello', {}, 'big'))?.text).toBe('big');
    expect(p.next(req('hello'))).toBeUndefined();
  });

  it('walks the script separately for each value of the session header', () => {
    const p = new ScriptPlayer(parseScript('sessionHeader: x-session\nreplies:\n  - { text: first }\n  - { text: second }\n'));
    const a = (h: string) => p.next(req('x', { 'x-session': h }))?.text;
    expect([a('s1'), a('s2'), a('s1'), a('s2'), a('s1')]).toEqual(['first', 'first', 'second', 'second', undefined]);
  });
});

describe('dev command group', () => {
  const cmd = { description: 'a target', run: async () => 0 };
  it('adds module dev commands beside the kernel ones and refuses a name taken twice', () => {
    const breeder = { name: 'breeder', dev: { target: cmd } } as unknown as Module;
    expect(Object.keys(devCommands([breeder]))).toEqual(['fake-llm', 'target']);
    const clash = { name: 'other', dev: { 'fake-llm': cmd } } as unknown as Module;
    expect(() => devCommands([clash])).toThrow(/already defined/);
  });
});
