/** Skills shipped with Capstan (kept in code so the single binary carries them). */

/** SKILL.md texts of the built-in skills. */
export const BUILTIN_SKILLS: string[] = [
  `---
name: writing-tests
description: Write or fix automated tests for code in the repository; find the test runner and run the tests.
---
1. Find how the repository runs tests: package.json scripts, Makefile, pyproject.toml, go.mod, Cargo.toml.
2. Read an existing test next to the code you change and follow its style and helpers.
3. Write the test first when fixing a bug: it must fail before the fix and pass after it.
4. Run only the affected test files with run_command (argv, e.g. ["bun", "test", "src/x.test.ts"]), then the whole suite if it is fast.
5. Never weaken or delete an assertion to make a test pass; report in finish what you could not fix.`,
  `---
name: git-commits
description: Prepare a clean commit of your changes in the worktree with a clear commit message and a reviewed diff.
---
Your work is committed for you when you call finish. Before that:
1. Run ["git", "status", "--short"] and ["git", "diff"] and read the diff as a reviewer would.
2. Remove stray files (debug output, temporary scripts) you created.
3. Put in your finish summary what changed and why, in a few lines: it becomes the commit message body.`,
];
