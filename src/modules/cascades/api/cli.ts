/** `capstan cascades ...`: client commands over HTTP (tables by default, JSON with --json). */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Invalid, sleep, type CliClient } from '../../../kernel/index.ts';
import { parseDefinition } from '../model/parse-definition.ts';
import { CascadeService } from '../service.ts';

const USAGE = `usage: capstan cascades <command>
  apply FILE                              save a cascade definition (YAML or JSON)
  definitions                             list saved cascades
  run FILE|CASCADE [--input k=v ...] [--follow]   start a session (a FILE is saved first); --follow waits and prints its log
  sessions [--status S] [--cascade C]     list sessions
  show ID                                 one session: status, phase, outputs, cost
  logs ID                                 the session's unified log
  cancel ID [--reason TEXT]
  signal ID --text TEXT                   send an audible the session reads at its next turn
  checkpoints [--status pending]          human checkpoints
  respond CHECKPOINT --text TEXT          answer a human checkpoint
global flags: --server URL (or CAPSTAN_SERVER), --json; token from CAPSTAN_TOKEN`;

const enc = encodeURIComponent;
const TERMINAL = new Set(['completed', 'error', 'cancelled']);

function fail(message: string): never {
  throw new Invalid(message);
}

/** Saves a definition file; returns its cascade id. */
async function apply(client: CliClient, file: string): Promise<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail(`cannot read ${file}: ${(err as Error).message}`);
  }
  const def = parseDefinition(text, file.endsWith('.json') ? 'json' : 'yaml');
  await client.request('POST', '/api/v1/cascades/definitions', def);
  return def.cascade_id;
}

/** Polls a session until it ends, printing log rows as they arrive; exit 0 only when it completed. */
async function follow(client: CliClient, id: string): Promise<number> {
  let after = 0;
  for (;;) {
    // Status first, then the log: a session that ended in between has all its rows printed before the summary.
    const s = await client.request<{ status: string; error: string | null; outputs: unknown; cost: number }>('GET', `/api/v1/cascades/sessions/${enc(id)}`);
    const logs = await client.request<{ items: { id: number; phase: string | null; kind: string; content: unknown }[] }>('GET', `/api/v1/cascades/sessions/${enc(id)}/logs?after=${after}`);
    for (const l of logs.items) {
      after = l.id;
      if (!client.json) console.log(`[${l.phase ?? '-'}] ${l.kind} ${JSON.stringify(l.content ?? null).slice(0, 300)}`);
    }
    if (TERMINAL.has(s.status) || s.status === 'blocked') {
      client.print({ sessionId: id, status: s.status, error: s.error ?? '', cost: s.cost, outputs: JSON.stringify(s.outputs) });
      return s.status === 'completed' || s.status === 'blocked' ? 0 : 1;
    }
    await sleep(300);
  }
}

/** The module's CLI entry: bad input (a definition, an --input) prints every field it names and exits 1. */
export async function cascadesCli(argv: string[], client: CliClient): Promise<number> {
  try {
    return await command(argv, client);
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    console.error(`capstan: ${err.message}`);
    for (const i of err.issues) console.error(`  ${i.path}: ${i.message}`);
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
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { input: { type: 'string', multiple: true }, follow: { type: 'boolean' }, status: { type: 'string' }, cascade: { type: 'string' }, reason: { type: 'string' }, text: { type: 'string' } } });
  } catch (err) {
    console.error(`capstan: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals: p } = parsed;
  const need = (n: number) => {
    if (p.length !== n) {
      console.error(`capstan: ${cmd} takes ${n} argument${n === 1 ? '' : 's'}\n${USAGE}`);
      return false;
    }
    return true;
  };
  switch (cmd) {
    case 'apply':
      if (!need(1)) return 2;
      client.print({ cascadeId: await apply(client, p[0]!) });
      return 0;
    case 'definitions': {
      const r = await client.request<{ items: Record<string, unknown>[] }>('GET', '/api/v1/cascades/definitions');
      client.print(r.items, ['cascadeId', 'version', 'phases', 'updatedAt']);
      return 0;
    }
    case 'run': {
      if (!need(1)) return 2;
      const target = p[0]!;
      const cascade = /\.(ya?ml|json)$/i.test(target) ? await apply(client, target) : target;
      const inputs = CascadeService.inputsFromPairs(v.input ?? []);
      const r = await client.request<{ sessionId: string }>('POST', `/api/v1/cascades/definitions/${enc(cascade)}/runs`, { inputs });
      if (!v.follow) {
        client.print({ sessionId: r.sessionId });
        return 0;
      }
      if (!client.json) console.log(`session ${r.sessionId}`);
      return follow(client, r.sessionId);
    }
    case 'sessions': {
      const q = new URLSearchParams();
      if (v.status) q.set('status', v.status);
      if (v.cascade) q.set('cascade', v.cascade);
      const r = await client.request<{ items: Record<string, unknown>[] }>('GET', `/api/v1/cascades/sessions?${q}`);
      client.print(r.items, ['id', 'cascadeId', 'status', 'currentPhase', 'cost', 'recoveries', 'createdAt']);
      return 0;
    }
    case 'show': {
      if (!need(1)) return 2;
      const s = await client.request<Record<string, unknown>>('GET', `/api/v1/cascades/sessions/${enc(p[0]!)}`);
      client.print(client.json ? s : { ...s, outputs: JSON.stringify(s.outputs), state: JSON.stringify(s.state), costs: JSON.stringify(s.costs) });
      return 0;
    }
    case 'logs': {
      if (!need(1)) return 2;
      const r = await client.request<{ items: Record<string, unknown>[] }>('GET', `/api/v1/cascades/sessions/${enc(p[0]!)}/logs`);
      client.print(client.json ? r.items : r.items.map((l) => ({ ...l, content: JSON.stringify(l.content ?? null).slice(0, 120) })), ['id', 'phase', 'turn', 'kind', 'soundingIndex', 'winner', 'model', 'tokensIn', 'tokensOut', 'cost', 'content']);
      return 0;
    }
    case 'cancel':
      if (!need(1)) return 2;
      client.print(await client.request('POST', `/api/v1/cascades/sessions/${enc(p[0]!)}/cancel`, v.reason ? { reason: v.reason } : {}));
      return 0;
    case 'signal':
      if (!need(1)) return 2;
      if (!v.text) return (console.error('capstan: signal needs --text'), 2);
      client.print(await client.request('POST', `/api/v1/cascades/sessions/${enc(p[0]!)}/signal`, { text: v.text }));
      return 0;
    case 'checkpoints': {
      const r = await client.request<{ items: Record<string, unknown>[] }>('GET', `/api/v1/cascades/checkpoints${v.status ? `?status=${enc(v.status)}` : ''}`);
      client.print(r.items, ['id', 'sessionId', 'phase', 'status', 'prompt', 'createdAt']);
      return 0;
    }
    case 'respond':
      if (!need(1)) return 2;
      if (v.text === undefined) return (console.error('capstan: respond needs --text'), 2);
      client.print(await client.request('POST', `/api/v1/cascades/checkpoints/${enc(p[0]!)}/respond`, { text: v.text }) as Record<string, unknown>);
      return 0;
    default:
      console.error(`capstan: unknown cascades command '${cmd}'\n${USAGE}`);
      return 2;
  }
}
