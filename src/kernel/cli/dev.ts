/** `capstan dev <command>`: development helpers (fake peers for tests and benchmarks); modules add theirs through `Module.dev`. */
import { fakeLlmCommand } from '../llm/fake/cli.ts';
import type { DevCommand, Module } from '../module.ts';
import { UsageError, wantsHelp } from './args.ts';

/** The kernel's own dev commands. */
const KERNEL_DEV: Record<string, DevCommand> = { 'fake-llm': fakeLlmCommand };

/** Every dev command: the kernel's, then each module's (a name taken twice is a programming error, reported as such). */
export function devCommands(modules: readonly Module[]): Record<string, DevCommand> {
  const all: Record<string, DevCommand> = { ...KERNEL_DEV };
  for (const m of modules) {
    for (const [name, cmd] of Object.entries(m.dev ?? {})) {
      if (name in all) throw new Error(`dev command '${name}' of module '${m.name}' is already defined`);
      all[name] = cmd;
    }
  }
  return all;
}

/** The help lines of the dev group. */
export function devHelp(modules: readonly Module[]): string {
  return Object.entries(devCommands(modules))
    .map(([name, c]) => `  dev ${(c.usage ?? name).padEnd(24)}\n${' '.repeat(30)}${c.description}`)
    .join('\n');
}

/** Runs `capstan dev <name> ...`; without a name lists the commands (exit 2). */
export async function runDev(argv: string[], modules: readonly Module[]): Promise<number> {
  const [name, ...rest] = argv;
  const commands = devCommands(modules);
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(`Usage: capstan dev <command> [flags]\n\n${devHelp(modules)}`);
    return name === undefined ? 2 : 0;
  }
  const cmd = commands[name];
  if (!cmd) throw new UsageError(`unknown dev command '${name}' (have: ${Object.keys(commands).join(', ')})`);
  if (wantsHelp(rest)) {
    console.log(`usage: capstan dev ${cmd.usage ?? name}\n\n${cmd.description}`);
    return 0;
  }
  return cmd.run(rest);
}
