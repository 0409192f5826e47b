/**
 * A module's client commands as a table: each entry states its usage line, flags and arguments, and the table does
 * the parsing, the help and the exit codes the same way for every module (usage error 2, server error 1, `--help` 0),
 * so a module's cli.ts holds what its commands do and no parser of its own.
 */
import type { CliClient } from '../module.ts';
import { parseFlags, UsageError, wantsHelp } from './args.ts';
import { commandContext, type CommandContext, type FlagSpec } from './command-context.ts';

/** One command: its usage line (`show RUN`), what it does, its flags and positional arguments, and its work. */
export interface CommandSpec<F extends FlagSpec> {
  /** The command and its arguments as the help shows them; several table keys may share one spec (`pause|resume`). */
  usage: string;
  description?: string;
  flags?: F;
  /** Positional arguments by name; a name ending in `?` is optional, one ending in `...` takes the rest. */
  args?: readonly string[];
  /** Exit codes besides 0, 1 and 2, with their meaning (shown in the help). */
  exits?: Readonly<Record<number, string>>;
  /** Runs the command; returns its exit code (nothing means 0). */
  run(ctx: CommandContext<F>): Promise<number | void>;
}

/** A command of the table: a runnable one, or a group of subcommands (`capstan agents swarm create`). */
export type Command = { kind: 'command'; spec: CommandSpec<FlagSpec> } | { kind: 'group'; usage: string; description?: string; commands: Record<string, Command> };

/** Declares a command; the flags given here type `ctx.flags`. */
export function command<const F extends FlagSpec = Record<never, never>>(spec: CommandSpec<F>): Command {
  return { kind: 'command', spec: spec as unknown as CommandSpec<FlagSpec> };
}

/** Declares a group of subcommands under one word. */
export function commandGroup(usage: string, description: string, commands: Record<string, Command>): Command {
  return { kind: 'group', usage, description, commands };
}

/** A module's command line: the module name (its API lives under /api/v1/<module>) and its commands. */
export interface CliSpec {
  module: string;
  commands: Record<string, Command>;
  /** Column where descriptions start in the help (default: after the longest one-line usage, at most 40). */
  width?: number;
}

const GLOBAL_FLAGS = 'global flags: --server URL (or CAPSTAN_SERVER), --json; token from CAPSTAN_TOKEN; --help on any command';
const EXIT_CODES = 'exit codes: 0 done, 1 the server refused or failed (its detail is printed), 2 usage error';

function usageOf(c: Command): string {
  return c.kind === 'command' ? c.spec.usage : c.usage;
}

function extraExits(commands: Command[]): string[] {
  return commands.flatMap((c) => (c.kind === 'command' ? Object.entries(c.spec.exits ?? {}).map(([code, what]) => `${code} (${c.spec.usage.split(' ')[0]}): ${what}`) : extraExits(Object.values(c.commands))));
}

/** The help of a table: one line per distinct usage, global flags, exit codes. */
function tableHelp(prefix: string, commands: Record<string, Command>, width?: number): string {
  // Entries sharing a usage line (`pause ID | resume ID | kill ID [--reason TEXT]`) show once.
  const distinct = [...new Map(Object.values(commands).map((c) => [usageOf(c), c])).values()];
  const lastLine = (u: string) => u.split('\n').at(-1)!;
  const col = width ?? Math.min(40, Math.max(...distinct.map((c) => lastLine(usageOf(c)).length)) + 2);
  const lines = distinct.map((c) => {
    const description = c.kind === 'command' ? c.spec.description : c.description;
    const usage = usageOf(c);
    if (!description) return `  ${usage}`;
    // A usage line reaching the column puts its description on the next line, at the column.
    if (lastLine(usage).length >= col) return `  ${usage}\n${' '.repeat(col + 2)}${description}`;
    return `  ${usage.padEnd(col + (usage.length - lastLine(usage).length))}${description}`;
  });
  const exits = extraExits(distinct);
  return [`usage: capstan ${prefix} <command>`, ...lines, GLOBAL_FLAGS, `${EXIT_CODES}${exits.length ? `; ${exits.join('; ')}` : ''}`].join('\n');
}

/** The help of one command. */
function commandHelp(prefix: string, spec: CommandSpec<FlagSpec>): string {
  const exits = Object.entries(spec.exits ?? {}).map(([code, what]) => `; ${code} ${what}`).join('');
  return [`usage: capstan ${prefix} ${spec.usage}`, ...(spec.description ? [`  ${spec.description}`] : []), GLOBAL_FLAGS, `${EXIT_CODES}${exits}`].join('\n');
}

/** Checks the positional arguments against the command's names; a missing or extra one is a usage error. */
function checkArgs(name: string, names: readonly string[], got: string[]): void {
  const rest = names.some((n) => n.endsWith('...'));
  const required = names.filter((n) => !n.endsWith('?') && !n.endsWith('...'));
  if (got.length < required.length) throw new UsageError(`${name} needs ${required[got.length]}`);
  if (!rest && got.length > names.length) throw new UsageError(`${name}: unexpected argument '${got[names.length]}'`);
}

/** Parses a command's flags; an unknown one is named as a flag this command does not take. */
function parseCommandFlags(name: string, argv: string[], flags: FlagSpec) {
  try {
    return parseFlags(argv, flags, true);
  } catch (err) {
    const unknown = /Unknown option '([^']+)'/.exec((err as Error).message)?.[1];
    if (unknown) throw new UsageError(`${name} does not take ${unknown}`);
    throw err;
  }
}

function fail(message: string, help: string): number {
  console.error(`capstan: ${message}\n${help}`);
  return 2;
}

async function runTable(path: string[], base: string, commands: Record<string, Command>, width: number | undefined, argv: string[], client: CliClient): Promise<number> {
  const prefix = path.join(' ');
  const help = tableHelp(prefix, commands, width);
  const [name, ...rest] = argv;
  if (name === undefined) return fail(`${prefix} needs a command`, help);
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(help);
    return 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) return fail(`unknown ${prefix} command '${name}'`, help);
  if (entry.kind === 'group') return runTable([...path, name], base, entry.commands, width, rest, client);
  const spec = entry.spec;
  const own = commandHelp(prefix, spec);
  if (wantsHelp(rest)) {
    console.log(own);
    return 0;
  }
  try {
    const { values, positionals } = parseCommandFlags(name, rest, spec.flags ?? {});
    checkArgs(name, spec.args ?? [], positionals);
    const code = await spec.run(commandContext({ name, base, client, flags: values, args: positionals, flagSpec: spec.flags ?? {} }));
    return code ?? 0;
  } catch (err) {
    if (err instanceof UsageError) return fail(err.message, own);
    throw err;
  }
}

/** Makes a module's `cli` hook from its command table. */
export function defineCli(spec: CliSpec): (argv: string[], client: CliClient) => Promise<number> {
  return (argv, client) => runTable([spec.module], `/api/v1/${spec.module}`, spec.commands, spec.width, argv, client);
}

/** The help text of a table (for docs and tests). */
export function cliHelp(spec: CliSpec): string {
  return tableHelp(spec.module, spec.commands, spec.width);
}
