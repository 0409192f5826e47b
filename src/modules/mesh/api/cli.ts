/** `capstan mesh ...`: client commands over HTTP (tables by default, JSON with --json), typed from the API's operations. */
import { parse as parseYaml } from 'yaml';
import { BODY, command, defineCli, Invalid } from '../../../kernel/index.ts';
import { ops } from './operations.ts';

const NAME = { 'params.name': 'NAME' };

/** start, stop and delete: one request to the workload under the command's name. */
const workloadAction = command({
  usage: 'start|stop|delete NAME',
  description: 'desired state, or remove the workload',
  args: ['NAME'],
  async run(ctx) {
    const params = { name: ctx.args[0]! };
    if (ctx.name === 'delete') await ctx.call(ops.deleteMeshWorkload, { params }, NAME);
    else ctx.client.print(await ctx.call(ctx.name === 'start' ? ops.startMeshWorkload : ops.stopMeshWorkload, { params }, NAME));
  },
});

const nodeAction = command({
  usage: 'cordon|uncordon|drain NODE',
  description: 'stop new work on NODE / allow it again / move its work away',
  args: ['NODE'],
  async run(ctx) {
    const op = ctx.name === 'cordon' ? ops.cordonMeshNode : ctx.name === 'uncordon' ? ops.uncordonMeshNode : ops.drainMeshNode;
    ctx.client.print(await ctx.call(op, { params: { id: ctx.args[0]! } }, { 'params.id': 'NODE' }));
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
        const r = await ctx.call(ops.listMeshNodes, {});
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
        const r = await ctx.call(ops.listMeshWorkloads, {});
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
        const text = ctx.readFile(file); // a missing file is a usage error (exit 2), not a bad workload
        let spec: unknown;
        try {
          spec = parseYaml(text);
        } catch (err) {
          throw new Invalid(`${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`, [{ path: BODY, message: 'not YAML or JSON' }]);
        }
        const r = await ctx.call(ops.applyMeshWorkload, { body: spec });
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
        ctx.client.print(await ctx.call(ops.fenceMeshWorkload, { params: { name: ctx.args[0]! } }, NAME));
      },
    }),
    move: command({
      usage: 'move NAME --to NODE',
      description: 'move replica 0 of NAME to NODE',
      flags: { to: { type: 'string' } },
      args: ['NAME'],
      async run(ctx) {
        ctx.client.print(await ctx.call(ops.moveMeshWorkload, { params: { name: ctx.args[0]! }, body: { to: ctx.need('to') } }, { ...NAME, 'body.to': '--to' }));
      },
    }),
    cordon: nodeAction,
    uncordon: nodeAction,
    drain: nodeAction,
    leases: command({
      usage: 'leases',
      description: 'lease records with holder, token and age',
      async run(ctx) {
        const r = await ctx.call(ops.listMeshLeases, {});
        ctx.client.print(r.items, ['lease', 'holder', 'token', 'fenced', 'ageMs']);
      },
    }),
  },
};

/** Runs one `capstan mesh` command; returns the exit code. */
export const meshCli = defineCli(meshCommands);
