/** Git operations on an agent's worktree, through the kernel's argv-only runCommand (no shell anywhere). */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CallFailed, Invalid, runCommand, Semaphore } from '../../../kernel/index.ts';

/** The identity of commits agents make (no global git config is read). */
const IDENTITY = ['-c', 'user.name=capstan agent', '-c', 'user.email=agents@capstan.invalid', '-c', 'commit.gpgsign=false'];
const GIT_TIMEOUT_MS = 60_000;
/** Diffs larger than this are cut (the full diff is always `git diff base..branch` in the repository). */
export const MAX_DIFF_BYTES = 1_000_000;

const gitEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', HOME: process.env.HOME ?? '/tmp', LANG: 'C' });

/**
 * Git processes this process runs at once. Without a bound, 500 agents spawned together started about 3,000 git
 * processes at the same moment (checks, worktree add, commit, diff): on a small machine they starved the event loop
 * and the NATS server, and event publishes timed out. Process-wide on purpose: the limit protects the machine's CPUs.
 */
let gitSlots = new Semaphore(4);

/** Sets how many git processes may run at once (modules.agents.gitConcurrency); callers already waiting keep their turn. */
export function limitGit(concurrency: number): void {
  if (gitSlots.limit !== concurrency) gitSlots = new Semaphore(concurrency);
}

/** Runs git in `cwd` with the agents' identity (waits for one of the process-wide git slots first). */
export async function git(cwd: string, args: string[], opts: { stdin?: string; signal?: AbortSignal } = {}): Promise<string> {
  const release = await gitSlots.acquire(opts.signal);
  try {
    return await runCommand(['git', ...IDENTITY, ...args], { cwd, env: gitEnv(), timeoutMs: GIT_TIMEOUT_MS, ...opts });
  } finally {
    release();
  }
}

/** Checks at spawn that `repo` is a git repository with the base branch; returns the repository's top folder and the branch. */
export async function checkRepository(repo: string, baseBranch: string | undefined): Promise<{ top: string; baseBranch: string }> {
  if (!existsSync(repo)) throw new Invalid(`repository '${repo}' does not exist on the server`, [{ path: 'body.repo', message: 'no such folder' }]);
  let top: string;
  try {
    top = (await git(repo, ['rev-parse', '--show-toplevel'])).trim();
  } catch {
    throw new Invalid(`'${repo}' is not a git repository`, [{ path: 'body.repo', message: 'not a git repository' }]);
  }
  let branch = baseBranch;
  if (!branch) {
    try {
      branch = (await git(top, ['symbolic-ref', '--short', 'HEAD'])).trim();
    } catch {
      throw new Invalid(`the repository's HEAD is detached; name a baseBranch`, [{ path: 'body.baseBranch', message: 'required when HEAD is detached' }]);
    }
  }
  try {
    await git(top, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
  } catch {
    throw new Invalid(`branch '${branch}' does not exist in ${top}`, [{ path: 'body.baseBranch', message: 'no such branch' }]);
  }
  return { top, baseBranch: branch };
}

/**
 * Makes the worktree on a new branch from the base (first start), or finds it again (a resumed agent). Returns the
 * base commit. A worktree folder that exists already is reused: the agent continues where it was. Two git processes
 * on the usual path (add, then the commit it checked out), since git is what limits how many agents start at once.
 */
export async function ensureWorktree(repo: string, path: string, branch: string, baseBranch: string): Promise<string> {
  if (existsSync(path)) return (await git(path, ['merge-base', 'HEAD', `refs/heads/${baseBranch}`]).catch(() => git(repo, ['rev-parse', `refs/heads/${baseBranch}`]))).trim();
  mkdirSync(dirname(path), { recursive: true });
  try {
    await git(repo, ['worktree', 'add', '-q', '-b', branch, path, `refs/heads/${baseBranch}`]);
  } catch (err) {
    if (!(err instanceof CallFailed && /already exists/.test(err.message)) || existsSync(path)) throw err;
    // A branch left from a worktree removed by hand is checked out again rather than recreated.
    await git(repo, ['worktree', 'add', '-q', path, branch]);
    return (await git(repo, ['rev-parse', `refs/heads/${baseBranch}^{commit}`])).trim();
  }
  return (await git(path, ['rev-parse', 'HEAD'])).trim();
}

/** Stages everything and commits it when anything changed; returns the branch head. */
export async function commitAll(path: string, message: string): Promise<{ sha: string; committed: boolean }> {
  await git(path, ['add', '-A']);
  const staged = await git(path, ['diff', '--cached', '--quiet']).then(
    () => false,
    (err) => {
      if (err instanceof CallFailed && /exited 1/.test(err.message)) return true;
      throw err;
    },
  );
  if (staged) await git(path, ['commit', '-q', '--no-verify', '-F', '-'], { stdin: message });
  return { sha: (await git(path, ['rev-parse', 'HEAD'])).trim(), committed: staged };
}

/** The agent's changes against its base: committed work on the branch plus, while it runs, what is not committed yet. */
export async function diffOf(repo: string, worktree: string, base: string, branch: string): Promise<string> {
  let text: string;
  if (existsSync(worktree)) {
    // Intent-to-add makes new files show up without touching the index's content.
    await git(worktree, ['add', '-A', '-N']);
    text = await git(worktree, ['diff', base]);
  } else text = await git(repo, ['diff', base, branch]);
  return cut(text);
}

/** The diff between two commits (an ended agent's work: everything is committed on its branch). */
export async function diffCommits(repo: string, base: string, head: string): Promise<string> {
  return cut(await git(repo, ['diff', base, head]));
}

const cut = (text: string): string => (text.length > MAX_DIFF_BYTES ? `${text.slice(0, MAX_DIFF_BYTES)}\n... diff cut at ${MAX_DIFF_BYTES} bytes\n` : text);

/** Removes the worktree folder (the branch stays). */
export async function removeWorktree(repo: string, path: string): Promise<void> {
  if (!existsSync(path)) return;
  await git(repo, ['worktree', 'remove', '--force', path]);
}

/**
 * Before a retry: keeps the failed attempt's head as branch `keepAs`, removes the worktree and points the agent's branch
 * back at the base commit, so the next attempt makes a fresh worktree from the base (ensureWorktree checks it out again).
 */
export async function freshStartForRetry(repo: string, path: string, branch: string, baseSha: string, keepAs: string): Promise<void> {
  await git(repo, ['branch', '-f', keepAs, `refs/heads/${branch}`]);
  if (existsSync(path)) await git(repo, ['worktree', 'remove', '--force', path]);
  await git(repo, ['worktree', 'prune']);
  await git(repo, ['branch', '-f', branch, baseSha]);
}
