/**
 * Extensions under the compiled binary (dist/capstan, built by the test command before vitest runs): a `.ts` file with
 * type annotations and a `.js` file are loaded by the binary's own runtime (there is no `bun` beside it in a container),
 * and their commands run through the binary's CLI.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../kit/index.ts';
import { REPO_ROOT, runCapstan, startServer, type ServerProcess } from '../../helpers/server-process.ts';

const BINARY = join(REPO_ROOT, 'dist/capstan');
const dir = tempDir('capstan-bin-ext-');
const extensions = join(dir, 'extensions');

/** TypeScript only the runtime's transpiler accepts: an interface, a type alias, parameter and return annotations. */
const typed = `
import { basename } from 'node:path';
interface Io { print(line: string): void }
type Argv = readonly string[];
const shout = (s: string): string => s.toUpperCase();
export default function (capstan: { registerCommand(c: { name: string; description: string; run(argv: Argv, io: Io): number }): void }): void {
  capstan.registerCommand({ name: 'shout', description: 'upper-cases its arguments', run(argv: Argv, io: Io): number {
    io.print(shout(argv.join(' ')) + ' ' + basename('/a/b.txt'));
    return argv.length === 0 ? 4 : 0;
  } });
}
`;

let server: ServerProcess;
beforeAll(async () => {
  expect(existsSync(BINARY), 'dist/capstan is missing: run `bun run build`').toBe(true);
  mkdirSync(extensions);
  writeFileSync(join(extensions, 'typed.ts'), typed);
  writeFileSync(join(extensions, 'plain.js'), "export default (c) => c.registerCommand({ name: 'plain', description: 'js', run: (argv, io) => { io.print('plain ' + argv.length); return 0; } });\n");
  writeFileSync(join(dir, 'capstan.yaml'), `modules:\n  agents:\n    extensionsDir: ${JSON.stringify(extensions)}\n`);
  server = await startServer({ binary: BINARY, args: ['--config', join(dir, 'capstan.yaml'), '--data-dir', join(dir, 'data')] });
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

describe('extensions under the compiled binary', () => {
  it('loads a typed .ts and a .js extension and runs their commands through the binary’s CLI', async () => {
    const list = (await (await fetch(`${server.url}/api/v1/agents/extensions`)).json()) as { items: { name: string; status: string; error?: string; commands: { name: string }[] }[] };
    expect(list.items.map((e) => [e.name, e.status, e.error, e.commands.map((c) => c.name)])).toEqual([
      ['plain', 'loaded', undefined, ['plain']],
      ['typed', 'loaded', undefined, ['shout']],
    ]);
    const cli = (...argv: string[]) => runCapstan(['agents', 'ext', ...argv, '--server', server.url], { binary: BINARY, env: { CAPSTAN_TOKEN: undefined } });
    const shouted = await cli('shout', 'hi', 'there');
    expect([shouted.code, shouted.stdout.trim()], shouted.stderr).toEqual([0, 'HI THERE b.txt']);
    const four = await cli('shout');
    expect([four.code, four.stdout.trim()], four.stderr).toEqual([4, 'b.txt']);
    const plain = await cli('plain', 'a', 'b');
    expect([plain.code, plain.stdout.trim()], plain.stderr).toEqual([0, 'plain 2']);
  });
});
