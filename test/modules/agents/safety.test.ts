/** Path resolution and command checks of the agents' tools, on real folders and symlinks. */
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DENY_COMMANDS } from '../../../src/modules/agents/config.ts';
import { checkCommand, compileDeny } from '../../../src/modules/agents/runtime/command-policy.ts';
import { resolveInside } from '../../../src/modules/agents/runtime/paths.ts';
import { Refusal } from '../../../src/modules/agents/runtime/refusal.ts';
import { tempDir } from '../../kit/index.ts';

const rule = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof Refusal) return err.rule;
    throw err;
  }
  return 'allowed';
};

describe('resolveInside', () => {
  const root = realpathSync(tempDir('capstan-wt-'));
  const outside = realpathSync(tempDir('capstan-out-'));
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src/a.ts'), '');
  writeFileSync(join(root, '.git'), 'gitdir: /elsewhere');
  symlinkSync(outside, join(root, 'out'));
  symlinkSync(join(root, 'src'), join(root, 'src-link'));
  symlinkSync(join(outside, 'missing'), join(root, 'dangling'));
  symlinkSync(join(root, '.git'), join(root, 'git-link'));

  it('resolves paths inside the worktree, existing or new, through symlinks that stay inside', () => {
    expect(resolveInside(root, 'src/a.ts')).toBe(join(root, 'src/a.ts'));
    expect(resolveInside(root, 'new/deep/file.txt')).toBe(join(root, 'new/deep/file.txt'));
    expect(resolveInside(root, 'src-link/a.ts')).toBe(join(root, 'src/a.ts'));
    expect(resolveInside(root, 'src/../src/a.ts')).toBe(join(root, 'src/a.ts'));
    expect(resolveInside(root, '.')).toBe(root);
  });

  it('refuses every way out', () => {
    expect(rule(() => resolveInside(root, '../x'))).toBe('path_escape');
    expect(rule(() => resolveInside(root, 'src/../../x'))).toBe('path_escape');
    expect(rule(() => resolveInside(root, '/etc/passwd'))).toBe('absolute_path');
    expect(rule(() => resolveInside(root, '~/.ssh/id_rsa'))).toBe('absolute_path');
    expect(rule(() => resolveInside(root, 'out/secret'))).toBe('path_escape');
    expect(rule(() => resolveInside(root, 'out/new/dir/file'))).toBe('path_escape');
    expect(rule(() => resolveInside(root, 'dangling'))).toBe('path_escape');
    expect(rule(() => resolveInside(root, '.git'))).toBe('git_dir');
    expect(rule(() => resolveInside(root, 'git-link'))).toBe('git_dir');
    expect(rule(() => resolveInside(root, ''))).toBe('path_escape');
  });
});

describe('checkCommand', () => {
  const root = realpathSync(tempDir('capstan-wt-'));
  const deny = compileDeny(DEFAULT_DENY_COMMANDS);
  it('allows ordinary programs with arguments inside the worktree', () => {
    expect(rule(() => checkCommand(['bun', 'test'], deny, root))).toBe('allowed');
    expect(rule(() => checkCommand(['git', 'status'], deny, root))).toBe('allowed');
    expect(rule(() => checkCommand(['ls', join(root, 'x')], deny, root))).toBe('allowed');
    expect(rule(() => checkCommand(['echo', '$(rm -rf /); *'], deny, root))).toBe('allowed');
  });
  it('refuses denied programs (by base name), shells, network tools, git push, and paths outside', () => {
    expect(rule(() => checkCommand(['/usr/bin/sudo', 'ls'], deny, root))).toBe('command_denied');
    expect(rule(() => checkCommand(['bash', '-c', 'ls'], deny, root))).toBe('command_denied');
    expect(rule(() => checkCommand(['env', 'ls'], deny, root))).toBe('command_denied');
    expect(rule(() => checkCommand(['curl', 'http://example.com'], deny, root))).toBe('command_denied');
    expect(rule(() => checkCommand(['git', 'push', 'origin'], deny, root))).toBe('command_denied');
    expect(rule(() => checkCommand(['cat', '/etc/passwd'], deny, root))).toBe('path_escape');
    expect(rule(() => checkCommand(['cat', '../../etc/passwd'], deny, root))).toBe('path_escape');
    expect(rule(() => checkCommand(['cp', 'a', '--target-directory=/tmp'], deny, root))).toBe('path_escape');
    expect(rule(() => checkCommand([], deny, root))).toBe('command_denied');
  });
});
