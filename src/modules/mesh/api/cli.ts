/** `capstan mesh ...`: client commands over HTTP (tables by default, JSON with --json). */
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { command, defineCli, Invalid } from '../../../kernel/index.ts';

const enc = encodeURIComponent;

// What the commands read of the answers (the routes document them as any JSON); parsed, so a change is reported.
const nodesAnswer = z.object({ items: z.array(z.object({ labels: z.record(z.string(), z.string()) }).passthrough()) });
const workloadsAnswer = z.object({
  items: z.array(
    z.object({
      workload: z.object({ spec: z.object({ name: z.string(), topology: z.object({ kind: z.string() }) }), desired: z.string() }),
      assignment: z.object({ error: z.string().optional() }).passthrough().nullish(),
      slots: z.array(z.object({ slot: z.number(), node: z.string(), token: z.number(), state: z.string() })),
    }),
  ),
});
const applyAnswer = z.object({ created: z.boolean(), placement: z.object({ satisfiable: z.boolean(), error: z.string().optional() }), workload: z.object({ spec: z.object({ name: z.string() }) }) }).passthrough();
const itemsAnswer = z.object({ items: z.array(z.record(z.string(), z.unknown())) });

/** start, stop and fence: one POST to the workload under the command's name. */
const workloadAction = command({
  usage: 'start|stop|delete NAME',
  description: 'desired state, or remove the workload',
  args: ['NAME'],
  async run(ctx) {
    const path = `/workloads/${enc(ctx.args[0]!)}`;
    if (ctx.name === 'delete') await ctx.send('DELETE', path);
    else ctx.client.print(await ctx.send('POST', `${path}/${ctx.name}`));
  },
});

const nodeAction = command({
  usage: 'cordon|uncordon|drain NODE',
  description: 'stop new work on NODE / allow it again / move its work away',
  args: ['NODE'],
  async run(ctx) {
    ctx.client.print(await ctx.send('POST', `/nodes/${enc(ctx.args[0]!)}/${ctx.name}`));
  },
});

/** The mesh module's command table. */
export const meshCommands = {
  module: 'mesh',
  width: 28,
  commands: {
    nodes: command({
      usage: 'nodes',
      description: 'nodes with site, state, capacity and cordon/drain flags',
      async run(ctx) {
        const r = await ctx.send('GET', '/nodes', undefined, nodesAnswer);
        ctx.client.print(
          r.items.map((n) => ({ ...n, labels: Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(',') })),
          ['id', 'site', 'state', 'capacity', 'cordoned', 'draining', 'lastSeenMsAgo', 'labels'],
        );
      },
    }),
    workloads: command({
      usage: 'workloads',
      description: 'workloads with their holder, token and state per slot',
      async run(ctx) {
        const r = await ctx.send('GET', '/workloads', undefined, workloadsAnswer);
        const rows = r.items.flatMap((w) => {
          const base = { name: w.workload.spec.name, topology: w.workload.spec.topology.kind, desired: w.workload.desired, error: w.assignment?.error ?? '' };
          return w.slots.length ? w.slots.map((s) => ({ ...base, slot: s.slot, node: s.node, token: s.token, state: s.state })) : [{ ...base }];
        });
        ctx.client.print(rows, ['name', 'topology', 'desired', 'slot', 'node', 'token', 'state', 'error']);
      },
    }),
    apply: command({
      usage: 'apply -f FILE',
      description: 'create or replace a workload (YAML or JSON); reports an unsatisfiable placement',
      flags: { file: { type: 'string', short: 'f' } },
      exits: { 3: 'the workload is saved but its placement is unsatisfiable (no node fits it now)' },
      async run(ctx) {
        const file = ctx.need('file');
        let spec: unknown;
        try {
          spec = parseYaml(ctx.readFile(file));
        } catch (err) {
          throw new Invalid(`${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`, [{ path: 'file', message: 'unreadable' }]);
        }
        const r = await ctx.send('POST', '/workloads', { body: spec }, applyAnswer);
        if (ctx.client.json) ctx.client.print(r);
        else console.log(`${r.workload.spec.name} ${r.created ? 'created' : 'updated'}${r.placement.satisfiable ? '' : `; placement unsatisfiable: ${r.placement.error}`}`);
        return r.placement.satisfiable ? 0 : 3;
      },
    }),
    start: workloadAction,
    stop: workloadAction,
    delete: workloadAction,
    fence: command({
      usage: 'fence NAME',
      description: 'fence every slot of NAME (holders stop; tokens go up)',
      args: ['NAME'],
      async run(ctx) {
        ctx.client.print(await ctx.send('POST', `/workloads/${enc(ctx.args[0]!)}/fence`));
      },
    }),
    move: command({
      usage: 'move NAME --to NODE',
      description: 'move replica 0 of NAME to NODE',
      flags: { to: { type: 'string' } },
      args: ['NAME'],
      async run(ctx) {
        ctx.client.print(await ctx.send('POST', `/workloads/${enc(ctx.args[0]!)}/move`, { body: { to: ctx.need('to') } }));
      },
    }),
    cordon: nodeAction,
    uncordon: nodeAction,
    drain: nodeAction,
    leases: command({
      usage: 'leases',
      description: 'lease records with holder, token and age',
      async run(ctx) {
        const r = await ctx.send('GET', '/leases', undefined, itemsAnswer);
        ctx.client.print(r.items, ['lease', 'holder', 'token', 'fenced', 'ageMs']);
      },
    }),
  },
};

/** Runs one `capstan mesh` command; returns the exit code. */
export const meshCli = defineCli(meshCommands);
