/** `capstan mesh ...`: client commands over HTTP (tables by default, JSON with --json). */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { Invalid, type CliClient } from '../../../kernel/index.ts';

const USAGE = `usage: capstan mesh <command>
  nodes                       nodes with site, state, capacity and cordon/drain flags
  workloads                   workloads with their holder, token and state per slot
  apply -f FILE               create or replace a workload (YAML or JSON); reports an unsatisfiable placement
  start|stop|delete NAME      desired state, or remove the workload
  fence NAME                  fence every slot of NAME (holders stop; tokens go up)
  move NAME --to NODE         move replica 0 of NAME to NODE
  cordon|uncordon|drain NODE  stop new work on NODE / allow it again / move its work away
  leases                      lease records with holder, token and age
global flags: --server URL (or CAPSTAN_SERVER), --json; token from CAPSTAN_TOKEN`;

const enc = encodeURIComponent;

function arg(args: string[], i: number, what: string): string {
  const v = args[i];
  if (!v || v.startsWith('-')) throw new Invalid(`missing ${what}\n${USAGE}`, [{ path: what, message: 'required' }]);
  return v;
}

/** Runs one `capstan mesh` command; returns the exit code. */
export async function meshCli(argv: string[], client: CliClient): Promise<number> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'nodes': {
      const r = await client.request<{ items: Record<string, unknown>[] }>('GET', '/api/v1/mesh/nodes');
      client.print(r.items.map((n) => ({ ...n, labels: Object.entries(n.labels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',') })), ['id', 'site', 'state', 'capacity', 'cordoned', 'draining', 'lastSeenMsAgo', 'labels']);
      return 0;
    }
    case 'workloads': {
      const r = await client.request<{ items: { workload: { spec: { name: string; topology: { kind: string } }; desired: string }; assignment?: { error?: string }; slots: { slot: number; node: string; token: number; state: string }[] }[] }>('GET', '/api/v1/mesh/workloads');
      const rows = r.items.flatMap((w) => {
        const base = { name: w.workload.spec.name, topology: w.workload.spec.topology.kind, desired: w.workload.desired, error: w.assignment?.error ?? '' };
        return w.slots.length ? w.slots.map((s) => ({ ...base, slot: s.slot, node: s.node, token: s.token, state: s.state })) : [{ ...base }];
      });
      client.print(rows, ['name', 'topology', 'desired', 'slot', 'node', 'token', 'state', 'error']);
      return 0;
    }
    case 'apply': {
      if (args[0] !== '-f' && args[0] !== '--file') throw new Invalid(`apply needs -f FILE\n${USAGE}`, [{ path: 'file', message: 'required' }]);
      const file = arg(args, 1, 'file');
      let spec: unknown;
      try {
        spec = parseYaml(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new Invalid(`cannot read ${file}: ${(err as Error).message}`, [{ path: 'file', message: 'unreadable' }]);
      }
      const r = await client.request<{ created: boolean; placement: { satisfiable: boolean; error?: string }; workload: { spec: { name: string } } }>('POST', '/api/v1/mesh/workloads', spec);
      if (client.json) client.print(r as unknown as Record<string, unknown>);
      else console.log(`${r.workload.spec.name} ${r.created ? 'created' : 'updated'}${r.placement.satisfiable ? '' : `; placement unsatisfiable: ${r.placement.error}`}`);
      return r.placement.satisfiable ? 0 : 3;
    }
    case 'start':
    case 'stop':
    case 'fence':
      client.print((await client.request('POST', `/api/v1/mesh/workloads/${enc(arg(args, 0, 'name'))}/${cmd}`)) as Record<string, unknown>);
      return 0;
    case 'delete':
      await client.request('DELETE', `/api/v1/mesh/workloads/${enc(arg(args, 0, 'name'))}`);
      return 0;
    case 'move': {
      if (args[1] !== '--to') throw new Invalid(`move needs --to NODE\n${USAGE}`, [{ path: 'to', message: 'required' }]);
      client.print((await client.request('POST', `/api/v1/mesh/workloads/${enc(arg(args, 0, 'name'))}/move`, { to: arg(args, 2, 'to') })) as Record<string, unknown>);
      return 0;
    }
    case 'cordon':
    case 'uncordon':
    case 'drain':
      client.print((await client.request('POST', `/api/v1/mesh/nodes/${enc(arg(args, 0, 'node'))}/${cmd}`)) as Record<string, unknown>);
      return 0;
    case 'leases': {
      const r = await client.request<{ items: Record<string, unknown>[] }>('GET', '/api/v1/mesh/leases');
      client.print(r.items, ['lease', 'holder', 'token', 'fenced', 'ageMs']);
      return 0;
    }
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}
