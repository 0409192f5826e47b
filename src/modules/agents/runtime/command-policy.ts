/** Which commands run_command may run: the deny patterns, and arguments that name paths outside the worktree. */
import { basename } from 'node:path';
import { Refusal } from './refusal.ts';
import { resolveInside } from './paths.ts';

/** Compiled deny patterns. */
export function compileDeny(patterns: string[]): RegExp[] {
  return patterns.map((p) => new RegExp(p));
}

/**
 * Throws Refusal when the command matches a deny pattern (tested against `program args...`, the program by its base
 * name so `/usr/bin/sudo` is `sudo`), or an argument is a path leaving the worktree (absolute, `~`, or climbing with `..`).
 */
export function checkCommand(argv: string[], deny: RegExp[], root: string): void {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) throw new Refusal('command_denied', 'argv must be a non-empty array of strings');
  const line = [basename(argv[0]!), ...argv.slice(1)].join(' ');
  const hit = deny.find((d) => d.test(line));
  if (hit) throw new Refusal('command_denied', `'${line.slice(0, 200)}' matches the deny pattern ${hit.source}`);
  argv.forEach((arg, i) => {
    // The program itself may live anywhere on PATH; its arguments must stay inside the worktree.
    if (i === 0) return;
    const value = arg.includes('=') && !arg.startsWith('/') ? arg.slice(arg.indexOf('=') + 1) : arg;
    if (value.startsWith('/') || value.startsWith('~') || /(^|[\\/])\.\.([\\/]|$)/.test(value)) {
      if (value.startsWith('/')) {
        const rel = value.slice(1);
        // An absolute path is fine when it is inside the worktree.
        try {
          resolveInside(root, relativeTo(root, value) ?? `../${rel}`);
          return;
        } catch {
          throw new Refusal('path_escape', `argument '${arg}' names a path outside the worktree`);
        }
      }
      try {
        resolveInside(root, value);
      } catch (err) {
        throw err instanceof Refusal ? new Refusal('path_escape', `argument '${arg}': ${err.message}`) : err;
      }
    }
  });
}

/** `abs` relative to `root` when it starts with it, else undefined. */
function relativeTo(root: string, abs: string): string | undefined {
  const r = root.endsWith('/') ? root : `${root}/`;
  if (abs === root) return '.';
  return abs.startsWith(r) ? abs.slice(r.length) : undefined;
}
