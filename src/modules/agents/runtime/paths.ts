/**
 * Path resolution for file tools: every path the model gives is resolved inside the worktree, symlinks included, and
 * refused when it would leave it. Not a sandbox against a malicious local process racing the check (TOCTOU); it stops
 * the agent itself from reading or writing outside its worktree.
 */
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Refusal } from './refusal.ts';

const inside = (root: string, p: string): boolean => {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** The deepest part of `p` that exists (itself when it exists); a dangling symlink counts as existing. */
function deepestExisting(p: string): string {
  let cur = p;
  for (;;) {
    try {
      lstatSync(cur);
      return cur;
    } catch {
      const up = dirname(cur);
      if (up === cur) return cur;
      cur = up;
    }
  }
}

/**
 * Resolves `requested` (relative to the worktree) to an absolute path inside `root`, or throws Refusal: absolute
 * paths, `..` that climbs out, a symlink anywhere on the way that points out, and the worktree's `.git` (it names
 * the main repository's git folder, so writing it could redirect the repository).
 */
export function resolveInside(root: string, requested: string): string {
  if (typeof requested !== 'string' || requested.length === 0) throw new Refusal('path_escape', 'a path is required');
  if (requested.includes('\0')) throw new Refusal('path_escape', 'a path must not contain NUL');
  if (isAbsolute(requested) || requested.startsWith('~')) throw new Refusal('absolute_path', `'${requested}' is absolute; give a path relative to the worktree`);
  const realRoot = realpathSync(root);
  const target = resolve(realRoot, requested);
  if (!inside(realRoot, target)) throw new Refusal('path_escape', `'${requested}' is outside the worktree`);
  const rel = relative(realRoot, target);
  if (rel === '.git' || rel.startsWith(`.git${sep}`)) throw new Refusal('git_dir', `'${requested}' is inside .git, which agents may not touch`);
  const existing = deepestExisting(target);
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    // A dangling symlink: where it points decides.
    throw new Refusal('path_escape', `'${requested}' goes through a symlink that points nowhere`);
  }
  if (!inside(realRoot, real)) throw new Refusal('path_escape', `'${requested}' resolves (through a symlink) outside the worktree`);
  const realRel = relative(realRoot, real);
  if (realRel === '.git' || realRel.startsWith(`.git${sep}`)) throw new Refusal('git_dir', `'${requested}' resolves into .git`);
  return existsSync(target) ? real : resolve(real, relative(existing, target));
}
