/**
 * `capstan agents ...`: client commands over HTTP. (`capstan agent` is the mesh node daemon, so the agents module's
 * commands live under `capstan agents`, and swarms under `capstan agents swarm`.)
 */
import { resolve } from 'node:path';
import type * as z from 'zod';
import { command, commandGroup, defineCli, sleep, type CommandContext, type FlagSpec, type RouteOutput } from '../../../kernel/index.ts';
import type { spawnSchema } from '../model/agent.ts';
import { ops } from './operations.ts';

const TERMINAL = new Set(['completed', 'failed', 'killed']);
const ID = { 'params.id': 'ID' };
type Ctx = CommandContext<FlagSpec>;

/** Prints log rows after `after` until the agent ends; exit 0 only when it completed. */
async function follow(ctx: Ctx, id: string): Promise<number> {
  let after = 0;
  for (;;) {
    // Status first, then the log: an agent that ended in between has all its rows printed before the summary.
    const a = await ctx.call(ops.getAgent, { params: { id } }, ID);
    const logs = await ctx.call(ops.getAgentLogs, { params: { id }, query: { after } }, ID);
    for (const l of logs.items) {
      after = l.id;
      if (!ctx.client.json) console.log(`[turn ${l.turn}] ${l.kind} ${JSON.stringify(l.content ?? null).slice(0, 300)}`);
    }
    if (TERMINAL.has(a.status)) {
      ctx.client.print({ id, status: a.status, branch: a.branch, commitSha: a.commitSha ?? '', cost: a.cost, result: a.result ?? '', error: a.error ?? '' });
      return a.status === 'completed' ? 0 : 1;
    }
    await sleep(500);
  }
}

/** The flags the fields of a spawn come from, where the kebab-case default is not the flag. */
const SPAWN_FLAGS = { 'body.task': 'TASK', 'body.baseBranch': '--base', 'body.skills': '--skill', 'body.budget.maxTokens': '--max-tokens', 'body.budget.maxCost': '--max-cost' };

const pick = (a: RouteOutput<typeof ops.getAgent>) => ({ id: a.id, status: a.status, turn: a.turn });
const CONTROL_USAGE = 'pause ID | resume ID | kill ID [--reason TEXT]';
const FOLLOW_EXIT = { 1: 'also when the followed agent or swarm ends failed or killed' } as const;

const pauseResume = command({
  usage: CONTROL_USAGE,
  args: ['ID'],
  async run(ctx) {
    ctx.client.print(pick(await ctx.call(ctx.name === 'pause' ? ops.pauseAgent : ops.resumeAgent, { params: { id: ctx.args[0]! } }, ID)));
  },
});

/** `capstan agents swarm create -f FILE | show ID | list`. */
const swarmCommands = {
  create: command({
    usage: 'create -f swarm.yaml [--follow]',
    description: 'start a swarm; --follow waits for its end',
    flags: { file: { type: 'string', short: 'f' }, follow: { type: 'boolean' } },
    exits: FOLLOW_EXIT,
    async run(ctx) {
      const file = ctx.need('file');
      // Sent as it is: the server reads YAML or JSON by its media type and names a bad field or line.
      const raw = { text: ctx.readFile(file), contentType: file.endsWith('.json') ? 'application/json' : 'application/yaml' };
      const s = await ctx.call(ops.createSwarm, { raw });
      if (!ctx.flags.follow) {
        ctx.client.print({ id: s.id, name: s.name, strategy: s.strategy, status: s.status });
        return 0;
      }
      for (;;) {
        const now = await ctx.call(ops.getSwarm, { params: { id: s.id } });
        if (now.status !== 'running') {
          ctx.client.print({ id: now.id, status: now.status, error: now.error ?? '', result: JSON.stringify(now.result) });
          return now.status === 'completed' ? 0 : 1;
        }
        await sleep(500);
      }
    },
  }),
  show: command({
    usage: 'show ID',
    description: 'one swarm: strategy, state, result, agents',
    args: ['ID'],
    async run(ctx) {
      const s = await ctx.call(ops.getSwarm, { params: { id: ctx.args[0]! } }, ID);
      ctx.client.print(ctx.client.json ? s : { ...s, spec: JSON.stringify(s.spec), state: JSON.stringify(s.state), result: JSON.stringify(s.result), agents: JSON.stringify(s.agents) });
    },
  }),
  list: command({
    usage: 'list',
    description: 'every swarm',
    async run(ctx) {
      ctx.client.print((await ctx.call(ops.listSwarms, {})).items, ['id', 'name', 'strategy', 'status', 'createdAt']);
    },
  }),
};

/** The agents module's command table. */
export const agentsCommands = {
  module: 'agents',
  width: 34,
  commands: {
    spawn: command({
      usage: 'spawn "TASK" --repo DIR [--model M] [--base BRANCH] [--priority critical|high|normal|low]\n        [--max-tokens N] [--max-cost X] [--max-turns N] [--retries N] [--project P] [--runtime builtin|cli] [--cli NAME] [--skill S ...] [--follow]',
      flags: {
        repo: { type: 'string' },
        model: { type: 'string' },
        base: { type: 'string' },
        priority: { type: 'string' },
        'max-tokens': { type: 'string' },
        'max-cost': { type: 'string' },
        'max-turns': { type: 'string' },
        retries: { type: 'string' },
        project: { type: 'string' },
        runtime: { type: 'string' },
        cli: { type: 'string' },
        skill: { type: 'string', multiple: true },
        follow: { type: 'boolean', short: 'f' },
      },
      args: ['TASK'],
      exits: FOLLOW_EXIT,
      async run(ctx) {
        const f = ctx.flags;
        const budget = { maxTokens: ctx.number('max-tokens', { integer: true, min: 1 }), maxCost: ctx.number('max-cost', { positive: true }) };
        const body = { task: ctx.args[0], repo: resolve(ctx.need('repo')), baseBranch: f.base, model: f.model, priority: f.priority, runtime: f.runtime, cli: f.cli, skills: f.skill, maxTurns: ctx.number('max-turns', { integer: true, min: 1 }), retries: ctx.number('retries', { integer: true, min: 0 }), project: f.project, budget };
        // Flag values go as typed (e.g. --priority as any text): the route's own schema checks them before sending.
        const a = await ctx.call(ops.spawnAgent, { body: body as z.input<typeof spawnSchema> }, SPAWN_FLAGS);
        if (!f.follow) {
          ctx.client.print({ id: a.id, status: a.status, branch: a.branch, worktree: a.worktree });
          return 0;
        }
        if (!ctx.client.json) console.log(`agent ${a.id} on branch ${String(a.branch)}`);
        return follow(ctx, a.id);
      },
    }),
    list: command({
      usage: 'list [--status S]',
      description: 'agents, newest first',
      flags: { status: { type: 'string' } },
      async run(ctx) {
        const r = await ctx.call(ops.listAgents, { query: { status: ctx.flags.status || undefined } });
        ctx.client.print(r.items.map((a) => ({ ...a, task: String(a.task).slice(0, 60) })), ['id', 'status', 'turn', 'priority', 'cost', 'branch', 'task', 'createdAt']);
      },
    }),
    show: command({
      usage: 'show ID',
      description: 'one agent: status, turn, cost, result',
      args: ['ID'],
      async run(ctx) {
        const a = await ctx.call(ops.getAgent, { params: { id: ctx.args[0]! } }, ID);
        const { spec: _spec, ...rest } = a;
        ctx.client.print(ctx.client.json ? a : { ...rest, labels: JSON.stringify(a.labels), budget: JSON.stringify(a.budget) });
      },
    }),
    logs: command({
      usage: 'logs ID [-f]',
      description: 'its turns and tool calls (-f: follow until it ends)',
      flags: { follow: { type: 'boolean', short: 'f' } },
      args: ['ID'],
      exits: FOLLOW_EXIT,
      async run(ctx) {
        const id = ctx.args[0]!;
        if (ctx.flags.follow) return follow(ctx, id);
        const r = await ctx.call(ops.getAgentLogs, { params: { id } }, ID);
        ctx.client.print(ctx.client.json ? r.items : r.items.map((l) => ({ ...l, content: JSON.stringify(l.content ?? null).slice(0, 120) })), ['id', 'turn', 'kind', 'tokensIn', 'tokensOut', 'cost', 'content']);
      },
    }),
    diff: command({
      usage: 'diff ID',
      description: 'its changes against the base commit',
      args: ['ID'],
      async run(ctx) {
        const r = await ctx.call(ops.getAgentDiff, { params: { id: ctx.args[0]! } }, ID);
        if (ctx.client.json) ctx.client.print(r);
        else process.stdout.write(r.diff);
      },
    }),
    pause: pauseResume,
    resume: pauseResume,
    kill: command({
      usage: CONTROL_USAGE,
      flags: { reason: { type: 'string' } },
      args: ['ID'],
      async run(ctx) {
        ctx.client.print(pick(await ctx.call(ops.killAgent, { params: { id: ctx.args[0]! }, body: ctx.flags.reason ? { reason: ctx.flags.reason } : {} }, { ...ID, 'body.reason': '--reason' })));
      },
    }),
    tasks: command({
      usage: 'tasks',
      description: 'the task queue (agents not ended, by priority)',
      async run(ctx) {
        const r = await ctx.call(ops.listAgentTasks, {});
        ctx.client.print(r.items.map((t) => ({ ...t, task: String(t.task).slice(0, 60), dependsOn: t.dependsOn.join(',') })), ['id', 'status', 'priority', 'dependsOn', 'task', 'createdAt']);
      },
    }),
    audit: command({
      usage: 'audit [ID]',
      description: 'safety refusals',
      args: ['ID?'],
      async run(ctx) {
        const id = ctx.args[0];
        const r = id ? await ctx.call(ops.getAgentAudit, { params: { id } }, ID) : await ctx.call(ops.listAgentsAudit, {});
        ctx.client.print(r.items, ['id', 'agentId', 'tool', 'rule', 'detail', 'createdAt']);
      },
    }),
    skills: command({
      usage: 'skills',
      description: 'skills agents can use',
      async run(ctx) {
        ctx.client.print((await ctx.call(ops.listAgentSkills, {})).items, ['name', 'description', 'source']);
      },
    }),
    extensions: command({
      usage: 'extensions',
      description: 'extension files: what each registered, or why it was skipped',
      async run(ctx) {
        const r = await ctx.call(ops.listAgentExtensions, {});
        ctx.client.print(ctx.client.json ? r.items : r.items.map((e) => ({ ...e, tools: (e.tools as string[]).join(','), commands: (e.commands as { name: string }[]).map((c) => c.name).join(','), events: (e.events as string[]).join(','), handlerErrors: (e.handlerErrors as unknown[]).length, error: e.error ?? '' })), ['name', 'status', 'tools', 'commands', 'events', 'handlerErrors', 'error']);
      },
    }),
    ext: command({
      usage: 'ext NAME [ARGS...]',
      description: "run an extension's command on the server (put -- before arguments that start with -)",
      args: ['NAME', 'ARGS...'],
      exits: { 1: 'also the exit code the command answered, whatever it is' },
      async run(ctx) {
        const [name, ...argv] = ctx.args as string[];
        const r = await ctx.call(ops.runAgentExtensionCommand, { params: { name: name! }, body: { argv } }, { 'params.name': 'NAME', 'body.argv': 'ARGS' });
        if (ctx.client.json) ctx.client.print(r);
        else for (const line of r.output) console.log(line);
        return r.exitCode;
      },
    }),
    swarm: commandGroup('swarm create -f swarm.yaml [--follow] | swarm show ID | swarm list', '', swarmCommands),
  },
};

/** Runs one `capstan agents` command; returns the exit code. */
export const agentsCli = defineCli(agentsCommands);
