/**
 * Turning argv into the one command string SSH carries. The remote side always hands that string to the user's
 * login shell, so each argument is wrapped in single quotes (inside which a POSIX shell expands nothing) and every
 * single quote in it is closed, escaped and reopened: the shell sees exactly the original words, whatever they hold.
 */

/** One argument as a single literal word for a POSIX shell. */
export function shellWord(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL byte');
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** argv as a POSIX shell command line whose words are exactly argv. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}
