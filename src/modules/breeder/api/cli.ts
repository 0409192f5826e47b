/** `capstan breeder ...`: client commands over HTTP (tables by default, JSON with --json). */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { CliClient } from '../../../kernel/index.ts';

const USAGE = `usage: capstan breeder <command>
  create -f FILE                 create a breeder from a YAML or JSON definition
  update ID -f FILE [--force]    replace a stopped breeder's definition
  list                           every breeder with its status and trial counts
  show ID                        one breeder (id or name)
  start ID | stop ID | delete ID
  trials ID [--after N] [--limit N] [--state S]
  best ID                        the best trial (first objective)
  pareto ID                      the Pareto front
global flags: --server URL (or CAPSTAN_SERVER), --json; token from CAPSTAN_TOKEN`;

const SHAPES: Record<string, { positionals: number; flags: string[] }> = {
  create: { positionals: 0, flags: ['file'] },
  update: { positionals: 1, flags: ['file', 'force'] },
  list: { positionals: 0, flags: [] },
  show: { positionals: 1, flags: [] },
  start: { positionals: 1, flags: [] },
  stop: { positionals: 1, flags: [] },
  delete: { positionals: 1, flags: [] },
  trials: { positionals: 1, flags: ['after', 'limit', 'state'] },
  best: { positionals: 1, flags: [] },
  pareto: { positionals: 1, flags: [] },
};

type View = { id: string; name: string; status: string; generation: number; reason: string | null; trials: Record<string, number> };
type Trial = { number: number; state: string; params: Record<string, unknown>; values: unknown; error: string | null; worker: string };

const summary = (b: View) => ({ id: b.id, name: b.name, status: b.status, complete: b.trials.complete ?? 0, fail: b.trials.fail ?? 0, running: b.trials.running ?? 0, reason: b.reason ?? '' });
const trialRow = (t: Trial) => ({ number: t.number, state: t.state, values: JSON.stringify(t.values), params: JSON.stringify(t.params), error: t.error ?? '' });

function usage(message: string): number {
  console.error(`capstan breeder: ${message}\n${USAGE}`);
  return 2;
}

/** Reads a definition file (YAML is a superset of JSON); a parse error names the file. */
function readDefinition(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Runs one breeder command; returns the exit code. */
export async function breederCli(argv: string[], client: CliClient): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const shape = SHAPES[cmd];
  if (!shape) return usage(`unknown command '${cmd}'`);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { file: { type: 'string', short: 'f' }, force: { type: 'boolean' }, after: { type: 'string' }, limit: { type: 'string' }, state: { type: 'string' } } });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== shape.positionals) return usage(`${cmd} takes ${shape.positionals === 1 ? 'an id' : 'no argument'}`);
  const stray = Object.keys(values).find((f) => values[f] !== undefined && !shape.flags.includes(f));
  if (stray) return usage(`${cmd} does not take --${stray}`);
  const id = encodeURIComponent(positionals[0] ?? '');
  const base = '/api/v1/breeder/breeders';
  const show = (b: View) => client.print(client.json ? b : summary(b));
  switch (cmd) {
    case 'create':
    case 'update': {
      if (typeof values.file !== 'string') return usage(`${cmd} needs -f FILE`);
      const def = readDefinition(values.file);
      show(cmd === 'create' ? await client.request<View>('POST', base, def) : await client.request<View>('PUT', `${base}/${id}${values.force ? '?force=true' : ''}`, def));
      return 0;
    }
    case 'list': {
      const { breeders } = await client.request<{ breeders: View[] }>('GET', base);
      client.print(client.json ? breeders : breeders.map(summary), ['id', 'name', 'status', 'complete', 'fail', 'running', 'reason']);
      return 0;
    }
    case 'show':
      show(await client.request<View>('GET', `${base}/${id}`));
      return 0;
    case 'start':
    case 'stop':
      show(await client.request<View>('POST', `${base}/${id}/${cmd}`));
      return 0;
    case 'delete':
      await client.request('DELETE', `${base}/${id}`);
      return 0;
    case 'trials': {
      const q = new URLSearchParams();
      for (const k of ['after', 'limit', 'state'] as const) if (typeof values[k] === 'string') q.set(k, values[k]);
      const page = await client.request<{ items: Trial[]; nextAfter: number | null }>('GET', `${base}/${id}/trials${q.size ? `?${q}` : ''}`);
      client.print(client.json ? page : page.items.map(trialRow), ['number', 'state', 'values', 'params', 'error']);
      return 0;
    }
    case 'best': {
      const { best } = await client.request<{ best: Trial | null }>('GET', `${base}/${id}/best`);
      if (!best) {
        console.error('no complete trial yet');
        return 1;
      }
      client.print(client.json ? best : trialRow(best));
      return 0;
    }
    case 'pareto': {
      const { front } = await client.request<{ front: Trial[] }>('GET', `${base}/${id}/pareto`);
      client.print(client.json ? front : front.map(trialRow), ['number', 'state', 'values', 'params', 'error']);
      return 0;
    }
  }
  return usage(`unknown command '${cmd}'`);
}
