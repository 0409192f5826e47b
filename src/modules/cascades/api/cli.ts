/** `capstan cascades ...`: client commands over HTTP (tables by default, JSON with --json), typed from the API's operations. */
import { writeFileSync } from 'node:fs';
import { BODY, command, commandGroup, defineCli, Invalid, jsonEqual, namedUnder, sleep, UsageError, zodIssues, type CommandContext, type FlagSpec } from '../../../kernel/index.ts';
import { checkDefinition, parseDefinition } from '../model/parse-definition.ts';
import { phaseChanges, SNAPSHOT_FORMAT, snapshotSchema, type Recording, type Snapshot } from '../model/snapshot.ts';
import { replaySession } from '../runtime/replay.ts';
import { CascadeService } from '../service.ts';
import { ops } from './operations.ts';

const TERMINAL = new Set(['completed', 'error', 'cancelled']);
const ID = { 'params.id': 'ID' };

/** Saves a definition file as it is (the server reads YAML or JSON and names each bad field); returns its cascade id. */
async function apply(ctx: CommandContext<FlagSpec>, file: string): Promise<string> {
  const raw = { text: ctx.readFile(file), contentType: file.endsWith('.json') ? 'application/json' : 'application/yaml' };
  return (await ctx.call(ops.defineCascade, { raw })).cascadeId;
}

/** Polls a session until it ends, printing log rows as they arrive; exit 0 only when it completed (or waits on a human). */
async function follow(ctx: CommandContext<FlagSpec>, id: string): Promise<number> {
  let after = 0;
  for (;;) {
    // Status first, then the log: a session that ended in between has all its rows printed before the summary.
    const s = await ctx.call(ops.getCascadeSession, { params: { id } });
    const logs = await ctx.call(ops.listCascadeSessionLogs, { params: { id }, query: { after } });
    for (const l of logs.items) {
      after = l.id;
      if (!ctx.client.json) console.log(`[${l.phase ?? '-'}] ${l.kind} ${JSON.stringify(l.content ?? null).slice(0, 300)}`);
    }
    if (TERMINAL.has(s.status) || s.status === 'blocked') {
      ctx.client.print({ sessionId: id, status: s.status, error: s.error ?? '', cost: s.cost, outputs: JSON.stringify(s.outputs) });
      return s.status === 'completed' || s.status === 'blocked' ? 0 : 1;
    }
    await sleep(300);
  }
}

/** Short JSON for a report line. */
const brief = (v: unknown) => {
  const t = JSON.stringify(v ?? null);
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
};

/** Snapshot tests: freeze a finished session's replies to a file, replay them against the (current) definition. */
const testCommands = {
  freeze: command({
    usage: 'test freeze SESSION [-o FILE]',
    description: "record an ended session's model replies and answers (to FILE, or stdout)",
    flags: { output: { type: 'string', short: 'o' } },
    args: ['SESSION'],
    exits: { 1: 'also when the session has not ended' },
    async run(ctx) {
      const r = await ctx.call(ops.getCascadeSessionRecording, { params: { id: ctx.args[0]! } }, { 'params.id': 'SESSION' });
      const spec = checkDefinition(r.spec);
      // The document states a recording as an object; its inside is the replay's to read.
      const recording = r.recording as unknown as Recording;
      // The phases as the recording reproduces them: the baseline a later replay is compared with.
      const replay = await replaySession(spec, recording);
      for (const p of replay.phases) {
        if (Object.hasOwn(r.outputs, p.phase) && !jsonEqual(r.outputs[p.phase], p.output)) console.error(`warning: phase ${p.phase}: the recording replays to ${brief(p.output)}, the session had ${brief(r.outputs[p.phase])}`);
      }
      if (replay.status !== r.status && !(replay.status === 'failed' && r.status === 'error')) console.error(`warning: the session ended ${r.status}; replaying its recording ends ${replay.status}${replay.error ? ` (${replay.error})` : ''}`);
      const snap: Snapshot = { format: SNAPSHOT_FORMAT, cascadeId: r.cascadeId, frozenAt: new Date().toISOString(), spec, recording, phases: replay.phases, status: replay.status };
      const text = `${JSON.stringify(snap, null, 2)}\n`;
      if (ctx.flags.output) {
        writeFileSync(ctx.flags.output, text);
        ctx.client.print({ file: ctx.flags.output, phases: replay.phases.length, replies: Object.values(recording.replies).reduce((n, l) => n + l.length, 0) });
      } else process.stdout.write(text);
      return 0;
    },
  }),
  run: command({
    usage: 'test run FILE [--definition FILE]',
    description: 'replay a frozen session against its definition (or --definition) with no network; report changed phases',
    flags: { definition: { type: 'string' } },
    args: ['FILE'],
    exits: { 1: 'also when a phase changed, or the snapshot or definition file is refused' },
    async run(ctx) {
      const file = ctx.args[0]!;
      let raw: unknown;
      try {
        raw = JSON.parse(ctx.readFile(file, 'snapshot'));
      } catch (err) {
        if (err instanceof SyntaxError) throw new Invalid(`${file}: not JSON (${err.message})`, [{ path: file, message: 'not JSON' }]);
        throw err;
      }
      const parsed = snapshotSchema.safeParse(raw);
      if (!parsed.success) throw new Invalid(`${file} is not a cascade snapshot`, zodIssues(parsed.error));
      const snap = parsed.data;
      const defFile = ctx.flags.definition;
      // Fields named as the server would: a definition file as the body it becomes on `apply`, a frozen one inside the snapshot.
      const spec = defFile
        ? namedUnder(BODY, () => parseDefinition(ctx.readFile(defFile, 'definition'), defFile.endsWith('.json') ? 'json' : 'yaml'))
        : namedUnder('spec', () => checkDefinition(snap.spec));
      const replay = await replaySession(spec, snap.recording as Recording);
      const changes = phaseChanges(snap.phases, replay.phases);
      const ended = replay.status === snap.status ? undefined : `the replay ended ${replay.status}${replay.error ? ` (${replay.error})` : ''}; frozen: ${snap.status}`;
      const lines = changes.map((c) => ({ phase: c.phase, changed: c.what, before: brief(c.before), after: brief(c.after) }));
      if (ctx.client.json) ctx.client.print({ status: replay.status, frozenStatus: snap.status, error: replay.error, changes });
      else {
        for (const l of lines) console.log(`phase ${l.phase}: ${l.changed} changed\n  before: ${l.before}\n  after:  ${l.after}`);
        if (ended) console.log(ended);
        console.log(changes.length === 0 && !ended ? `ok: ${replay.phases.length} phases unchanged` : `${new Set(changes.map((c) => c.phase)).size} phase(s) changed`);
      }
      return changes.length === 0 && !ended ? 0 : 1;
    },
  }),
};

/** `--input k=v` pairs; one without `=` is a usage error naming the flag. */
function inputs(pairs: string[]): Record<string, unknown> {
  try {
    return CascadeService.inputsFromPairs(pairs);
  } catch (err) {
    if (err instanceof Invalid) throw new UsageError(`--input: ${err.message}`);
    throw err;
  }
}

/** The cascades module's command table. */
export const cascadesCommands = {
  module: 'cascades',
  width: 40,
  commands: {
    apply: command({
      usage: 'apply FILE',
      description: 'save a cascade definition (YAML or JSON)',
      args: ['FILE'],
      async run(ctx) {
        ctx.client.print({ cascadeId: await apply(ctx, ctx.args[0]!) });
      },
    }),
    definitions: command({
      usage: 'definitions',
      description: 'list saved cascades',
      async run(ctx) {
        ctx.client.print((await ctx.call(ops.listCascadeDefinitions, {})).items, ['cascadeId', 'version', 'phases', 'updatedAt']);
      },
    }),
    run: command({
      usage: 'run FILE|CASCADE [--input k=v ...] [--follow]',
      description: 'start a session (a FILE is saved first); --follow waits and prints its log',
      flags: { input: { type: 'string', multiple: true }, follow: { type: 'boolean' } },
      args: ['FILE|CASCADE'],
      exits: { 1: 'also when the followed session ends in error or is cancelled' },
      async run(ctx) {
        const target = ctx.args[0]!;
        const given = inputs(ctx.flags.input ?? []);
        const cascade = /\.(ya?ml|json)$/i.test(target) ? await apply(ctx, target) : target;
        const r = await ctx.call(ops.runCascade, { params: { id: cascade }, body: { inputs: given } }, { 'params.id': 'FILE|CASCADE', 'body.inputs': '--input' });
        if (!ctx.flags.follow) {
          ctx.client.print({ sessionId: r.sessionId });
          return 0;
        }
        if (!ctx.client.json) console.log(`session ${r.sessionId}`);
        return follow(ctx, r.sessionId);
      },
    }),
    sessions: command({
      usage: 'sessions [--status S] [--cascade C]',
      description: 'list sessions',
      flags: { status: { type: 'string' }, cascade: { type: 'string' } },
      async run(ctx) {
        // Sent as typed; the server checks them and a refusal names the flag.
        const r = await ctx.call(ops.listCascadeSessions, { query: { status: ctx.flags.status || undefined, cascade: ctx.flags.cascade || undefined } });
        ctx.client.print(r.items, ['id', 'cascadeId', 'status', 'currentPhase', 'cost', 'recoveries', 'createdAt']);
      },
    }),
    show: command({
      usage: 'show ID',
      description: 'one session: status, phase, outputs, cost',
      args: ['ID'],
      async run(ctx) {
        const s = await ctx.call(ops.getCascadeSession, { params: { id: ctx.args[0]! } }, ID);
        ctx.client.print(ctx.client.json ? s : { ...s, outputs: JSON.stringify(s.outputs), state: JSON.stringify(s.state), costs: JSON.stringify(s.costs) });
      },
    }),
    logs: command({
      usage: 'logs ID',
      description: "the session's unified log",
      args: ['ID'],
      async run(ctx) {
        const r = await ctx.call(ops.listCascadeSessionLogs, { params: { id: ctx.args[0]! } }, ID);
        const shown = ctx.client.json ? r.items : r.items.map((l) => ({ ...l, content: JSON.stringify(l.content ?? null).slice(0, 120) }));
        ctx.client.print(shown, ['id', 'phase', 'turn', 'kind', 'soundingIndex', 'winner', 'model', 'tokensIn', 'tokensOut', 'cost', 'content']);
      },
    }),
    cancel: command({
      usage: 'cancel ID [--reason TEXT]',
      flags: { reason: { type: 'string' } },
      args: ['ID'],
      async run(ctx) {
        ctx.client.print(await ctx.call(ops.cancelCascadeSession, { params: { id: ctx.args[0]! }, body: ctx.flags.reason ? { reason: ctx.flags.reason } : {} }, { ...ID, 'body.reason': '--reason' }));
      },
    }),
    signal: command({
      usage: 'signal ID --text TEXT',
      description: 'send an audible the session reads at its next turn',
      flags: { text: { type: 'string' } },
      args: ['ID'],
      async run(ctx) {
        ctx.client.print(await ctx.call(ops.signalCascadeSession, { params: { id: ctx.args[0]! }, body: { text: ctx.need('text') } }, { ...ID, 'body.text': '--text' }));
      },
    }),
    checkpoints: command({
      usage: 'checkpoints [--status pending]',
      description: 'human checkpoints',
      flags: { status: { type: 'string' } },
      async run(ctx) {
        const r = await ctx.call(ops.listCascadeCheckpoints, { query: { status: ctx.flags.status || undefined } });
        ctx.client.print(r.items, ['id', 'sessionId', 'phase', 'status', 'prompt', 'createdAt']);
      },
    }),
    respond: command({
      usage: 'respond CHECKPOINT --text TEXT',
      description: 'answer a human checkpoint',
      flags: { text: { type: 'string' } },
      args: ['CHECKPOINT'],
      async run(ctx) {
        // An empty answer is an answer; only a missing --text is a usage error.
        const text = ctx.flags.text;
        if (text === undefined) throw new UsageError('respond needs --text');
        ctx.client.print(await ctx.call(ops.respondCascadeCheckpoint, { params: { id: ctx.args[0]! }, body: { text } }, { 'params.id': 'CHECKPOINT', 'body.text': '--text' }));
      },
    }),
    test: commandGroup('test freeze SESSION [-o FILE] | test run FILE [--definition FILE]', 'snapshot tests of prompts', testCommands),
  },
};

/** Runs one `capstan cascades` command; returns the exit code. */
export const cascadesCli = defineCli(cascadesCommands);
