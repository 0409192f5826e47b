/** The agents module's configuration slice (`modules.agents`). */
import { join, resolve } from 'node:path';
import * as z from 'zod';

/** Patterns (JavaScript regular expressions, tested against `program arg1 arg2...` with the program's base name) no agent may run. */
export const DEFAULT_DENY_COMMANDS = [
  '^(sudo|su|doas)\\b',
  // A shell or interpreter started with inline code would run anything past the other patterns.
  '^(sh|bash|zsh|dash|ksh|fish|env|xargs|nohup|setsid)\\b',
  '^(curl|wget|ssh|scp|sftp|rsync|nc|ncat|netcat|telnet|ftp)\\b',
  '^git\\s+(push|remote|config|worktree|credential)\\b',
  '^(shutdown|reboot|halt|poweroff|mkfs\\S*|dd|mount|umount|chown|kill|pkill|killall)\\b',
];

/** An external coding-agent CLI run headless in the worktree (argv elements may hold {{ task }}, {{ worktree }}, {{ agentId }}, {{ model }}). */
export const cliRuntimeSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1),
  /** How the task reaches the program: on stdin, or only through {{ task }} in the command. */
  taskVia: z.enum(['stdin', 'argument']).default('stdin'),
  /** Parse stdout lines that are JSON objects into log rows, token usage and the final result. */
  jsonLines: z.boolean().default(true),
  /** Extra environment for the program (names that look like secrets are dropped: pass keys through the program's own config). */
  env: z.record(z.string(), z.string()).default({}),
});

/** Config schema: worktree folder, worker concurrency, leases, defaults of every agent, safety rules. */
export const agentsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /**
     * Where worktrees live (`<dir>/<agent id>`); default `<dataDir>/agents/worktrees` (the server's --data-dir). In
     * distributed mode every instance must see the same folder at the same path.
     */
    worktreesDir: z.string().min(1).optional(),
    /** Folder for artifacts an agent leaves (`<dir>/<agent id>`); default `<dataDir>/agents/artifacts`, shared like worktreesDir. */
    artifactsDir: z.string().min(1).optional(),
    /** Agents one instance runs at once (each is a `long` queue job that mostly waits on the LLM). */
    concurrency: z.number().int().min(1).max(100_000).default(100),
    /** Git processes (worktree add, commit, diff, checks) this process runs at once; more wait in line. */
    gitConcurrency: z.number().int().min(1).max(256).default(4),
    /** Model when a spawn names none. */
    defaultModel: z.string().min(1).optional(),
    /** Turns (LLM calls) an agent may take when its spawn does not say. */
    maxTurns: z.number().int().min(1).max(10_000).default(50),
    /** Wall-clock limit of one agent from its first start, unless its spawn says otherwise. */
    wallClockMs: z.number().int().min(100).default(3_600_000),
    /** Budget warning (agents.budget.warning) when this share of a token or cost budget is spent. */
    budgetWarnAt: z.number().gt(0).lt(1).default(0.8),
    /** A command of run_command is killed after this long unless the call asks for less. */
    commandTimeoutMs: z.number().int().min(100).default(120_000),
    /** Bytes of a command's stdout and of its stderr returned to the model; the rest is cut. */
    outputCapBytes: z.number().int().min(256).default(65_536),
    /** Commands refused by run_command (regular expressions). */
    denyCommands: z.array(z.string()).default(DEFAULT_DENY_COMMANDS),
    /** Hosts the fetch_url tool may reach (`host`, `*.domain`, `host:port`); empty: no network for built-in tools. */
    allowHosts: z.array(z.string()).default([]),
    /** What happens to a worktree when its agent ends: removed at once, removed when it completed, removed after cleanupDelayMs, or kept. The branch always stays. */
    cleanup: z.enum(['immediate', 'on-success', 'delay', 'manual']).default('manual'),
    cleanupDelayMs: z.number().int().min(0).default(3_600_000),
    /** A running agent whose heartbeat is older than this is resumed elsewhere from its last turn. */
    leaseMs: z.number().int().min(300).default(60_000),
    heartbeatMs: z.number().int().min(100).default(15_000),
    /** How often the (role-held) sweeper looks for orphaned agents. */
    sweepIntervalMs: z.number().int().min(50).default(5_000),
    roleTtlMs: z.number().int().min(300).default(5_000),
    /** Folders of skills (`<dir>/<name>/SKILL.md`), after the built-ins; a later one wins on a name. */
    skillsDirs: z.array(z.string().min(1)).default(['~/.capstan/skills', './.capstan/skills']),
    /** Folder of extensions (`<dir>/<name>.ts|.js`, default export `function (capstan) { ... }`), loaded at start. */
    extensionsDir: z.string().min(1).default('./.capstan/extensions'),
    /** Reload an extension when its file changes; default: only under `capstan serve --dev`. */
    watchExtensions: z.boolean().optional(),
    /** Deliveries of one event to an extension handler that keeps throwing, before the event is given up for it. */
    extensionMaxDeliver: z.number().int().min(1).max(1_000).default(5),
    /** An event an extension handler has not finished within this time is delivered again (its instance died, or it hangs). */
    extensionAckWaitMs: z.number().int().min(100).default(30_000),
    /** Limits per project (a spawn's `project`), across every instance: running agents at once, tokens and cost of all its agents together. */
    projects: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/),
        z.strictObject({ maxConcurrent: z.number().int().min(1).optional(), maxTokens: z.number().int().positive().optional(), maxCost: z.number().positive().optional() }),
      )
      .default({}),
    /** External CLI runtimes by name (runtime `cli`, spawn field `cli`). */
    cliRuntimes: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), cliRuntimeSchema).default({}),
    /** Recoveries of one agent before it fails instead. */
    maxRecoveries: z.number().int().min(0).max(100).default(3),
  })
  .superRefine((c, ctx) => {
    if (c.heartbeatMs * 2 > c.leaseMs) ctx.addIssue({ code: 'custom', path: ['heartbeatMs'], message: `must be at most half of leaseMs (${c.leaseMs})` });
    c.denyCommands.forEach((p, i) => {
      try {
        new RegExp(p);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['denyCommands', i], message: (err as Error).message });
      }
    });
  })
  .prefault({});

/** The slice as parsed (folders may be unset). */
export type AgentsSettings = z.output<typeof agentsConfigSchema>;
/** The slice the module runs with: folders resolved to absolute paths. */
export type AgentsConfig = AgentsSettings & { worktreesDir: string; artifactsDir: string };

/** Resolves the folders: given ones against the working directory, unset ones under the server's data folder. */
export function resolveFolders(c: AgentsSettings, dataDir: string): AgentsConfig {
  return { ...c, worktreesDir: resolve(c.worktreesDir ?? join(dataDir, 'agents', 'worktrees')), artifactsDir: resolve(c.artifactsDir ?? join(dataDir, 'agents', 'artifacts')) };
}
