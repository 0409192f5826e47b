/** `capstan breeder ...`: client commands over HTTP (tables by default, JSON with --json), typed from the API's operations. */
import { command, defineCli, type CommandContext, type FlagSpec, type RawBody, type RouteOutput } from '../../../kernel/index.ts';
import { ops } from './operations.ts';

type View = RouteOutput<typeof ops.getBreeder>;
type Trial = RouteOutput<typeof ops.listBreederTrials>['items'][number];

const TRIAL_COLUMNS = ['number', 'state', 'values', 'params', 'error'];
const ID = { 'params.id': 'ID' };
const summary = (b: View) => ({ id: b.id, name: b.name, status: b.status, complete: b.trials.complete ?? 0, fail: b.trials.fail ?? 0, running: b.trials.running ?? 0, reason: b.reason ?? '' });
const trialRow = (t: Trial) => ({ number: t.number, state: t.state, values: JSON.stringify(t.values), params: JSON.stringify(t.params), error: t.error ?? '' });
const params = (ctx: CommandContext<FlagSpec>) => ({ id: ctx.args[0]! });

/** A definition file as it is: the server reads YAML or JSON by its media type and names a bad field or line. */
function definition(ctx: CommandContext<FlagSpec>, file: string): RawBody {
  return { text: ctx.readFile(file), contentType: file.endsWith('.json') ? 'application/json' : 'application/yaml' };
}

/** start, stop and delete: one command under three names (the original help groups them on one line). */
const lifecycle = command({
  usage: 'start ID | stop ID | delete ID',
  args: ['ID'],
  async run(ctx) {
    if (ctx.name === 'delete') {
      await ctx.call(ops.deleteBreeder, { params: params(ctx) }, ID);
      return;
    }
    const b = ctx.name === 'start' ? await ctx.call(ops.startBreeder, { params: params(ctx) }, ID) : await ctx.call(ops.stopBreeder, { params: params(ctx) }, ID);
    // A stop while the database is away is pending (202): the loops were told; the status follows when it is back.
    if ('trials' in b) ctx.client.print(ctx.client.json ? b : summary(b));
    else ctx.client.print(ctx.client.json ? b : { breeder: b.breeder, status: b.status, reaches: b.reaches, requestedAt: b.requestedAt, detail: b.detail });
  },
});

/** The breeder module's command table. */
export const breederCommands = {
  module: 'breeder',
  width: 31,
  commands: {
    create: command({
      usage: 'create -f FILE',
      description: 'create a breeder from a YAML or JSON definition',
      flags: { file: { type: 'string', short: 'f' } },
      async run(ctx) {
        const b = await ctx.call(ops.createBreeder, { raw: definition(ctx, ctx.need('file')) });
        ctx.client.print(ctx.client.json ? b : summary(b));
      },
    }),
    update: command({
      usage: 'update ID -f FILE [--force]',
      description: "replace a stopped breeder's definition",
      flags: { file: { type: 'string', short: 'f' }, force: { type: 'boolean' } },
      args: ['ID'],
      async run(ctx) {
        const raw = definition(ctx, ctx.need('file'));
        const b = await ctx.call(ops.replaceBreeder, { params: params(ctx), query: ctx.flags.force ? { force: 'true' } : {}, raw }, ID);
        ctx.client.print(ctx.client.json ? b : summary(b));
      },
    }),
    list: command({
      usage: 'list',
      description: 'every breeder with its status and trial counts',
      async run(ctx) {
        const { breeders } = await ctx.call(ops.listBreeders, {});
        ctx.client.print(ctx.client.json ? breeders : breeders.map(summary), ['id', 'name', 'status', 'complete', 'fail', 'running', 'reason']);
      },
    }),
    show: command({
      usage: 'show ID',
      description: 'one breeder (id or name)',
      args: ['ID'],
      async run(ctx) {
        const b = await ctx.call(ops.getBreeder, { params: params(ctx) }, ID);
        ctx.client.print(ctx.client.json ? b : summary(b));
      },
    }),
    start: lifecycle,
    stop: lifecycle,
    delete: lifecycle,
    trials: command({
      usage: 'trials ID [--after N] [--limit N] [--state S]',
      flags: { after: { type: 'string' }, limit: { type: 'string' }, state: { type: 'string' } },
      args: ['ID'],
      async run(ctx) {
        const after = ctx.number('after', { integer: true, min: -1 });
        const limit = ctx.number('limit', { integer: true, min: 1, max: 1000 });
        // --state goes as typed: the route's own schema checks it (a bad one is a usage error naming the flag).
        const page = await ctx.call(ops.listBreederTrials, { params: params(ctx), query: { after, limit, state: ctx.flags.state } }, ID);
        ctx.client.print(ctx.client.json ? page : page.items.map(trialRow), TRIAL_COLUMNS);
      },
    }),
    best: command({
      usage: 'best ID',
      description: 'the best trial (first objective)',
      args: ['ID'],
      async run(ctx) {
        const { best } = await ctx.call(ops.getBreederBest, { params: params(ctx) }, ID);
        if (!best) {
          console.error('no complete trial yet');
          return 1;
        }
        ctx.client.print(ctx.client.json ? best : trialRow(best));
      },
    }),
    pareto: command({
      usage: 'pareto ID',
      description: 'the Pareto front',
      args: ['ID'],
      async run(ctx) {
        const { front } = await ctx.call(ops.getBreederPareto, { params: params(ctx) }, ID);
        ctx.client.print(ctx.client.json ? front : front.map(trialRow), TRIAL_COLUMNS);
      },
    }),
  },
};

/** Runs one breeder command; returns the exit code. */
export const breederCli = defineCli(breederCommands);
