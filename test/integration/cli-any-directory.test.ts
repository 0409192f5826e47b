/**
 * `capstan` works from any working directory (the package's bin runs in the user's folder, not this repository's):
 * Bun reads tsconfig.json from the working directory, so the console's JSX once failed to load from elsewhere with
 * "Cannot find module 'react/jsx-dev-runtime'", and every command with it, since main.ts loads all modules.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../kit/index.ts';

const main = resolve(import.meta.dirname, '../../src/main.ts');

describe('capstan from another working directory', () => {
  it('loads every module (console pages included) and prints its help', () => {
    const r = spawnSync(process.execPath, [main, '--help'], { cwd: tempDir('capstan-cwd-'), encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toContain('Cannot find module');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Module commands:');
  });
});
