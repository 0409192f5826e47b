/** `capstan breeder ...`: client commands over HTTP (tables by default, JSON with --json). */
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { command, defineCli, Invalid, type CommandContext, type FlagSpec } from '../../../kernel/index.ts';

// What the commands read of the answers; parsed, so an answer of another shape is reported rather than printed wrong.
const view = z.object({ id: z.string(), name: z.string(), status: z.string(), reason: z.string().nullish(), trials: z.record(z.string(), z.number()) }).passthrough();
const trial = z.object({ number: z.number(), state: z.string(), params: z.unknown(), values: z.unknown(), error: z.string().nullish() }).passthrough();
type View = z.output<typeof view>;
type Trial = z.output<typeof trial>;

const BASE = '/breeders';
const TRIAL_COLUMNS = ['number', 'state', 'values', 'params', 'error'];
const summary = (b: View) => ({ id: b.id, name: b.name, status: b.status, complete: b.trials.complete ?? 0, fail: b.trials.fail ?? 0, running: b.trials.running ?? 0, reason: b.reason ?? '' });
const trialRow = (t: Trial) => ({ number: t.number, state: t.state, values: JSON.stringify(t.values), params: JSON.stringify(t.params), error: t.error ?? '' });
const at = (ctx: CommandContext<FlagSpec>) => `${BASE}/${encodeURIComponent(ctx.args[0]!)}`;

/** Reads a definition file (YAML is a superset of JSON); a parse error names the file and exits 1 like a refused one. */
function readDefinition(ctx: CommandContext<FlagSpec>, file: string): unknown {
  const text = ctx.readFile(file);
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new Invalid(`${file}: ${(err as Error).message.split('\n')[0]}`, [{ path: 'file', message: 'not YAML or JSON' }]);
  }
}

/** start, stop and delete: one command under three names (the original help groups them on one line). */
const lifecycle = command({
  usage: 'start ID | stop ID | delete ID',
  args: ['ID'],
  async run(ctx) {
    if (ctx.name === 'delete') {
      await ctx.send('DELETE', at(ctx));
      return;
    }
    const b = await ctx.send('POST', `${at(ctx)}/${ctx.name}`, undefined, view);
    ctx.client.print(ctx.client.json ? b : summary(b));
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
        const b = await ctx.send('POST', BASE, { body: readDefinition(ctx, ctx.need('file')) }, view);
        ctx.client.print(ctx.client.json ? b : summary(b));
      },
    }),
    update: command({
      usage: 'update ID -f FILE [--force]',
      description: "replace a stopped breeder's definition",
      flags: { file: { type: 'string', short: 'f' }, force: { type: 'boolean' } },
      args: ['ID'],
      async run(ctx) {
        const def = readDefinition(ctx, ctx.need('file'));
        const b = await ctx.send('PUT', `${at(ctx)}${ctx.flags.force ? '?force=true' : ''}`, { body: def }, view);
        ctx.client.print(ctx.client.json ? b : summary(b));
      },
    }),
    list: command({
      usage: 'list',
      description: 'every breeder with its status and trial counts',
      async run(ctx) {
        const { breeders } = await ctx.send('GET', BASE, undefined, z.object({ breeders: z.array(view) }));
        ctx.client.print(ctx.client.json ? breeders : breeders.map(summary), ['id', 'name', 'status', 'complete', 'fail', 'running', 'reason']);
      },
    }),
    show: command({
      usage: 'show ID',
      description: 'one breeder (id or name)',
      args: ['ID'],
      async run(ctx) {
        const b = await ctx.send('GET', at(ctx), undefined, view);
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
        const q = new URLSearchParams();
        const after = ctx.number('after', { integer: true, min: -1 });
        const limit = ctx.number('limit', { integer: true, min: 1, max: 1000 });
        if (after !== undefined) q.set('after', String(after));
        if (limit !== undefined) q.set('limit', String(limit));
        if (ctx.flags.state) q.set('state', ctx.flags.state);
        const page = await ctx.send('GET', `${at(ctx)}/trials${q.size ? `?${q}` : ''}`, undefined, z.object({ items: z.array(trial), nextAfter: z.number().nullable() }).passthrough());
        ctx.client.print(ctx.client.json ? page : page.items.map(trialRow), TRIAL_COLUMNS);
      },
    }),
    best: command({
      usage: 'best ID',
      description: 'the best trial (first objective)',
      args: ['ID'],
      async run(ctx) {
        const { best } = await ctx.send('GET', `${at(ctx)}/best`, undefined, z.object({ best: trial.nullable() }));
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
        const { front } = await ctx.send('GET', `${at(ctx)}/pareto`, undefined, z.object({ front: z.array(trial) }));
        ctx.client.print(ctx.client.json ? front : front.map(trialRow), TRIAL_COLUMNS);
      },
    }),
  },
};

/** Runs one breeder command; returns the exit code. */
export const breederCli = defineCli(breederCommands);
