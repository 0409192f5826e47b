/** `capstan workflow ...`: client commands over HTTP (tables by default, JSON with --json), typed from the API's operations. */
import { randomUUID } from 'node:crypto';
import { command, defineCli } from '../../../kernel/index.ts';
import { ops } from './operations.ts';

const RUN_COLUMNS = ['runId', 'workflow', 'foreignId', 'status', 'runState', 'version', 'updatedAt'];

/** pause, resume and cancel: one command under three names (the server ignores --reason on resume). */
const control = command({
  usage: 'pause|resume|cancel RUN [--reason TEXT]',
  flags: { reason: { type: 'string' } },
  args: ['RUN'],
  async run(ctx) {
    const action = ctx.name === 'pause' ? 'pause' : ctx.name === 'resume' ? 'resume' : 'cancel';
    const reason = ctx.flags.reason;
    ctx.client.print(await ctx.call(ops.controlWorkflowRun, { params: { runId: ctx.args[0]!, action }, body: reason ? { reason } : {} }, { 'params.runId': 'RUN', 'body.reason': '--reason' }));
  },
});

/** The workflow module's command table. */
export const workflowCommands = {
  module: 'workflow',
  width: 39,
  commands: {
    apply: command({
      usage: 'apply -f FILE [--force]',
      description: 'create or update a definition (YAML or JSON); --force even if runs wait at a removed status',
      flags: { file: { type: 'string', short: 'f' }, force: { type: 'boolean' } },
      async run(ctx) {
        const file = ctx.need('file');
        const text = ctx.readFile(file);
        const saved = await ctx.call(ops.applyWorkflowDefinition, {
          query: ctx.flags.force ? { force: 'true' } : {},
          raw: { text, contentType: file.endsWith('.json') ? 'application/json' : 'application/yaml' },
        });
        ctx.client.print(ctx.client.json ? saved : { name: saved.name, kind: saved.kind, version: saved.version });
      },
    }),
    definitions: command({
      usage: 'definitions',
      description: 'list definitions',
      async run(ctx) {
        const r = await ctx.call(ops.listWorkflowDefinitions, {});
        ctx.client.print(r.definitions, ['name', 'kind', 'version', 'updatedAt']);
      },
    }),
    trigger: command({
      usage: 'trigger NAME --foreign-id X [--object JSON] [--start STATUS] [--idempotency-key K]',
      description: 'start a run; sends the key (default: a fresh one per invocation) as the Idempotency-Key header',
      flags: { 'foreign-id': { type: 'string' }, object: { type: 'string' }, start: { type: 'string' }, 'idempotency-key': { type: 'string' } },
      args: ['NAME'],
      async run(ctx) {
        const key = ctx.flags['idempotency-key'] ?? randomUUID();
        const r = await ctx.call(
          ops.triggerWorkflowRun,
          { params: { name: ctx.args[0]! }, body: { foreignId: ctx.need('foreign-id'), object: ctx.json('object'), start: ctx.flags.start }, headers: { 'idempotency-key': key } },
          { 'params.name': 'NAME' },
        );
        ctx.client.print(r);
      },
    }),
    runs: command({
      usage: 'runs [--workflow W] [--status S] [--run-state R] [--foreign-id X] [--limit N]',
      flags: { workflow: { type: 'string' }, status: { type: 'string' }, 'run-state': { type: 'string' }, 'foreign-id': { type: 'string' }, limit: { type: 'string' } },
      async run(ctx) {
        const f = ctx.flags;
        // Values go as the strings typed; the route's own schema checks them (a bad one is a usage error naming its flag).
        const r = await ctx.call(ops.listWorkflowRuns, { query: { workflow: f.workflow, status: f.status, runState: f['run-state'], foreignId: f['foreign-id'], limit: f.limit } });
        ctx.client.print(r.runs, RUN_COLUMNS);
      },
    }),
    show: command({
      usage: 'show RUN',
      description: 'one run with its history',
      args: ['RUN'],
      async run(ctx) {
        const params = { runId: ctx.args[0]! };
        const names = { 'params.runId': 'RUN' };
        const run = await ctx.call(ops.getWorkflowRun, { params }, names);
        const { history } = await ctx.call(ops.getWorkflowRunHistory, { params }, names);
        if (ctx.client.json) ctx.client.print({ ...run, history });
        else {
          ctx.client.print(run);
          console.log();
          ctx.client.print(history, ['version', 'status', 'runState', 'reason', 'createdAt']);
        }
      },
    }),
    await: command({
      usage: 'await RUN --status S [--timeout 30s]',
      description: 'wait until the run has been at S',
      flags: { status: { type: 'string' }, timeout: { type: 'string' } },
      args: ['RUN'],
      async run(ctx) {
        const run = await ctx.call(ops.awaitWorkflowRun, { params: { runId: ctx.args[0]! }, query: { status: ctx.need('status'), timeout: ctx.flags.timeout ?? '30s' } }, { 'params.runId': 'RUN' });
        ctx.client.print(run);
      },
    }),
    pause: control,
    resume: control,
    cancel: control,
    callback: command({
      usage: 'callback RUN --status AT --to NEXT [--object JSON]',
      flags: { status: { type: 'string' }, to: { type: 'string' }, object: { type: 'string' } },
      args: ['RUN'],
      async run(ctx) {
        const run = await ctx.call(
          ops.callbackWorkflowRun,
          { params: { runId: ctx.args[0]!, status: ctx.need('status') }, body: { status: ctx.need('to'), object: ctx.json('object') } },
          { 'params.runId': 'RUN', 'params.status': '--status', 'body.status': '--to' },
        );
        ctx.client.print(run);
      },
    }),
  },
};

/** Runs one workflow client command; returns the exit code. */
export const workflowCli = defineCli(workflowCommands);
