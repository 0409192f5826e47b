/**
 * `capstan agents ...`: client commands over HTTP. (`capstan agent` is the mesh node daemon, so the agents module's
 * commands live under `capstan agents`, and swarms under `capstan agents swarm`.)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { CapstanError, sleep, type CliClient } from '../../../kernel/index.ts';

const USAGE = `usage: capstan agents <command>
  spawn "TASK" --repo DIR [--model M] [--base BRANCH] [--priority critical|high|normal|low]
        [--max-tokens N] [--max-cost X] [--max-turns N] [--runtime builtin|cli] [--cli NAME] [--skill S ...] [--follow]
  list [--status S]                 agents, newest first
  show ID                           one agent: status, turn, cost, result
  logs ID [-f]                      its turns and tool calls (-f: follow until it ends)
  diff ID                           its changes against the base commit
  pause ID | resume ID | kill ID [--reason TEXT]
  tasks                             the task queue (agents not ended, by priority)
  audit [ID]                        safety refusals
  skills                            skills agents can use
  swarm create -f swarm.yaml [--follow] | swarm show ID | swarm list
global flags: --server URL (or CAPSTAN_SERVER), --json; token from CAPSTAN_TOKEN`;

const enc = encodeURIComponent;
const TERMINAL = new Set(['completed', 'failed', 'killed']);
type Row = Record<string, unknown>;

/** Prints log rows after `after` until the agent ends; exit 0 only when it completed. */
async function follow(client: CliClient, id: string, print = true): Promise<number> {
  let after = 0;
  for (;;) {
    // Status first, then the log: an agent that ended in between has all its rows printed before the summary.
    const a = await client.request<Row>('GET', `/api/v1/agents/agents/${enc(id)}`);
    const logs = await client.request<{ items: { id: number; turn: number; kind: string; content: unknown }[] }>('GET', `/api/v1/agents/agents/${enc(id)}/logs?after=${after}`);
    for (const l of logs.items) {
      after = l.id;
      if (print && !client.json) console.log(`[turn ${l.turn}] ${l.kind} ${JSON.stringify(l.content ?? null).slice(0, 300)}`);
    }
    if (TERMINAL.has(String(a.status))) {
      client.print({ id, status: a.status, branch: a.branch, commitSha: a.commitSha ?? '', cost: a.cost, result: a.result ?? '', error: a.error ?? '' });
      return a.status === 'completed' ? 0 : 1;
    }
    await sleep(500);
  }
}

/** The module's CLI entry: bad input prints every field it names and exits 1. */
export async function agentsCli(argv: string[], client: CliClient): Promise<number> {
  try {
    return await command(argv, client);
  } catch (err) {
    if (!(err instanceof CapstanError) || err.status >= 500) throw err;
    console.error(`capstan: ${err.message}`);
    const issues = (err.details as { issues?: { path: string; message: string }[]; errors?: { path: string; message: string }[] }).issues ?? (err.details as { errors?: { path: string; message: string }[] }).errors ?? [];
    for (const i of issues) console.error(`  ${i.path}: ${i.message}`);
    return 1;
  }
}

async function command(argv: string[], client: CliClient): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === 'help') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        repo: { type: 'string' },
        model: { type: 'string' },
        base: { type: 'string' },
        priority: { type: 'string' },
        'max-tokens': { type: 'string' },
        'max-cost': { type: 'string' },
        'max-turns': { type: 'string' },
        runtime: { type: 'string' },
        cli: { type: 'string' },
        skill: { type: 'string', multiple: true },
        follow: { type: 'boolean', short: 'f' },
        status: { type: 'string' },
        reason: { type: 'string' },
        file: { type: 'string' },
      },
    });
  } catch (err) {
    console.error(`capstan: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals: p } = parsed;
  const need = (n: number) => {
    if (p.length === n) return true;
    console.error(`capstan: ${cmd} takes ${n} argument${n === 1 ? '' : 's'}\n${USAGE}`);
    return false;
  };
  const num = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new CapstanError('Invalid', 400, `--${flag} must be a positive number`, { issues: [{ path: flag, message: 'a positive number' }] });
    return n;
  };
  switch (cmd) {
    case 'spawn': {
      if (!need(1)) return 2;
      if (!v.repo) return (console.error('capstan: spawn needs --repo DIR'), 2);
      const budget = { maxTokens: num('max-tokens', v['max-tokens']), maxCost: num('max-cost', v['max-cost']) };
      const body = { task: p[0], repo: resolve(v.repo), baseBranch: v.base, model: v.model, priority: v.priority, runtime: v.runtime, cli: v.cli, skills: v.skill, maxTurns: num('max-turns', v['max-turns']), budget: JSON.parse(JSON.stringify(budget)) };
      const a = await client.request<Row>('POST', '/api/v1/agents/agents', JSON.parse(JSON.stringify(body)));
      if (!v.follow) {
        client.print({ id: a.id, status: a.status, branch: a.branch, worktree: a.worktree });
        return 0;
      }
      if (!client.json) console.log(`agent ${a.id} on branch ${a.branch}`);
      return follow(client, String(a.id));
    }
    case 'list': {
      const r = await client.request<{ items: Row[] }>('GET', `/api/v1/agents/agents${v.status ? `?status=${enc(v.status)}` : ''}`);
      client.print(r.items.map((a) => ({ ...a, task: String(a.task).slice(0, 60) })), ['id', 'status', 'turn', 'priority', 'cost', 'branch', 'task', 'createdAt']);
      return 0;
    }
    case 'show': {
      if (!need(1)) return 2;
      const a = await client.request<Row>('GET', `/api/v1/agents/agents/${enc(p[0]!)}`);
      const { spec: _spec, ...rest } = a;
      client.print(client.json ? a : { ...rest, labels: JSON.stringify(a.labels), budget: JSON.stringify(a.budget) });
      return 0;
    }
    case 'logs': {
      if (!need(1)) return 2;
      if (v.follow) return follow(client, p[0]!);
      const r = await client.request<{ items: Row[] }>('GET', `/api/v1/agents/agents/${enc(p[0]!)}/logs`);
      client.print(client.json ? r.items : r.items.map((l) => ({ ...l, content: JSON.stringify(l.content ?? null).slice(0, 120) })), ['id', 'turn', 'kind', 'tokensIn', 'tokensOut', 'cost', 'content']);
      return 0;
    }
    case 'diff': {
      if (!need(1)) return 2;
      const r = await client.request<{ diff: string }>('GET', `/api/v1/agents/agents/${enc(p[0]!)}/diff`);
      if (client.json) client.print(r as unknown as Row);
      else process.stdout.write(r.diff);
      return 0;
    }
    case 'pause':
    case 'resume':
      if (!need(1)) return 2;
      client.print(pick(await client.request<Row>('POST', `/api/v1/agents/agents/${enc(p[0]!)}/${cmd}`)));
      return 0;
    case 'kill':
      if (!need(1)) return 2;
      client.print(pick(await client.request<Row>('POST', `/api/v1/agents/agents/${enc(p[0]!)}/kill`, v.reason ? { reason: v.reason } : {})));
      return 0;
    case 'tasks': {
      const r = await client.request<{ items: Row[] }>('GET', '/api/v1/agents/tasks');
      client.print(r.items.map((t) => ({ ...t, task: String(t.task).slice(0, 60), dependsOn: (t.dependsOn as string[]).join(',') })), ['id', 'status', 'priority', 'dependsOn', 'task', 'createdAt']);
      return 0;
    }
    case 'audit': {
      const r = await client.request<{ items: Row[] }>('GET', p[0] ? `/api/v1/agents/agents/${enc(p[0])}/audit` : '/api/v1/agents/audit');
      client.print(r.items, ['id', 'agentId', 'tool', 'rule', 'detail', 'createdAt']);
      return 0;
    }
    case 'skills': {
      const r = await client.request<{ items: Row[] }>('GET', '/api/v1/agents/skills');
      client.print(r.items, ['name', 'description', 'source']);
      return 0;
    }
    case 'swarm':
      return swarmCommand(client, p, v.file, Boolean(v.follow));
    default:
      console.error(`capstan: unknown agents command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

const pick = (a: Row): Row => ({ id: a.id, status: a.status, turn: a.turn });

/** `capstan agents swarm create -f FILE | show ID | list`. */
async function swarmCommand(client: CliClient, p: string[], file: string | undefined, follow: boolean): Promise<number> {
  const [sub, id] = p;
  if (sub === 'create') {
    if (!file) return (console.error('capstan: swarm create needs -f swarm.yaml (--file)'), 2);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      console.error(`capstan: cannot read ${file}: ${(err as Error).message}`);
      return 1;
    }
    let def: unknown;
    try {
      def = parseYaml(text);
    } catch (err) {
      console.error(`capstan: ${file} is not YAML: ${(err as Error).message.split('\n')[0]}`);
      return 1;
    }
    const s = await client.request<Row>('POST', '/api/v1/agents/swarms', def);
    if (!follow) {
      client.print({ id: s.id, name: s.name, strategy: s.strategy, status: s.status });
      return 0;
    }
    for (;;) {
      const now = await client.request<Row>('GET', `/api/v1/agents/swarms/${enc(String(s.id))}`);
      if (now.status !== 'running') {
        client.print({ id: now.id, status: now.status, error: now.error ?? '', result: JSON.stringify(now.result) });
        return now.status === 'completed' ? 0 : 1;
      }
      await sleep(500);
    }
  }
  if (sub === 'show' && id) {
    const s = await client.request<Row>('GET', `/api/v1/agents/swarms/${enc(id)}`);
    client.print(client.json ? s : { ...s, spec: JSON.stringify(s.spec), state: JSON.stringify(s.state), result: JSON.stringify(s.result), agents: JSON.stringify(s.agents) });
    return 0;
  }
  if (sub === 'list') {
    const r = await client.request<{ items: Row[] }>('GET', '/api/v1/agents/swarms');
    client.print(r.items, ['id', 'name', 'strategy', 'status', 'createdAt']);
    return 0;
  }
  console.error(`capstan: swarm create -f FILE | swarm show ID | swarm list\n${USAGE}`);
  return 2;
}
