/** The workflow module: durable state-machine and DAG workflows behind /api/v1/workflow. */
import * as z from 'zod';
import { defineModule, type Module, type ModuleContext } from '../../kernel/index.ts';
import { migrations } from './store/migrations.gen.ts';
import type { AnyWorkflowSpec } from './model/builder.ts';
import { workflowCli } from './api/cli.ts';
import { WorkflowEngine } from './runtime/engine.ts';
import { createWorkflowMetrics } from './runtime/metrics.ts';
import { workflowRoutes } from './api/routes.ts';
import { WorkflowService } from './service.ts';
import { createRecordStore, type RecordStore } from './store/index.ts';
import { workflowUi } from './ui/routes.tsx';

const configSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** `command` steps run argv on the server: off unless an operator turns them on. */
    commandSteps: z.boolean().default(false),
    /** Failed attempts of one step for one run before the run is paused. */
    pauseAfterErrCount: z.number().int().min(1).max(1000).default(5),
    /** Runs paused by errors are resumed after this long. */
    retryPausedAfterMs: z.number().int().min(1000).default(300_000),
    /** TTL of the consumer and poller roles: a dead instance's roles move within this. */
    roleTtlMs: z.number().int().min(500).default(5_000),
    /** How often each consumer re-reads the store for runs it may have missed. */
    sweepIntervalMs: z.number().int().min(100).default(10_000),
    /**
     * The longest the timeout poller sleeps without news. It sleeps until the earliest pending timeout is due and is
     * woken by the status_changed event of every run that arms one, so this only bounds a missed announcement.
     */
    timeoutPollMs: z.number().int().min(50).default(5_000),
    /**
     * Runs each step consumer shard works on at once (a step may set its own). Steps of different runs are
     * independent, and a serial consumer is bound by one round trip after another.
     */
    stepConcurrency: z.number().int().min(1).max(1000).default(16),
  })
  .prefault({});

/** The module's configuration slice (`modules.workflow`). */
export type WorkflowConfig = z.output<typeof configSchema>;

/** What `init` builds once per process: the engine, the service over the store, and the definitions being loaded. */
interface WorkflowState {
  engine: WorkflowEngine;
  service: WorkflowService;
  store: RecordStore;
  /** Settles once code-defined and saved definitions are registered; routes and actions wait on it. */
  loaded: Promise<void>;
}

function init(ctx: ModuleContext<WorkflowConfig>, workflows: AnyWorkflowSpec[]): WorkflowState {
  const { resources, config } = ctx;
  const store = createRecordStore(resources.db);
  const engine = new WorkflowEngine({
    store,
    bus: resources.bus,
    roles: resources.roles,
    kv: resources.kv,
    log: ctx.log,
    metrics: createWorkflowMetrics(resources.metrics),
    leaseTtlMs: config.roleTtlMs,
    sweepIntervalMs: config.sweepIntervalMs,
    timeoutPollMs: config.timeoutPollMs,
    retryPausedAfterMs: config.retryPausedAfterMs,
    stepConcurrency: config.stepConcurrency,
    clock: resources.clock,
  });
  const service = new WorkflowService(engine, store, resources.bus, { actions: ctx.actions, commandsEnabled: config.commandSteps, defaultPauseAfterErrCount: config.pauseAfterErrCount }, ctx.log);
  // Code-defined workflows first, so a saved definition of the same name cannot shadow them silently.
  const codeDefined = Promise.all(workflows.map((w) => engine.register(w)));
  const loaded = codeDefined.then(() => service.load());
  loaded.catch((err) => ctx.log.error({ err }, 'loading workflow definitions failed'));
  return { engine, service, store, loaded };
}

/** Builds the module. `workflows` are code-defined (defineWorkflow). */
export function createWorkflowModule(opts: { workflows?: AnyWorkflowSpec[] } = {}): Module {
  return defineModule({
    name: 'workflow',
    migrations,
    description: 'durable state-machine and DAG workflows',
    configSchema,
    init: (ctx) => init(ctx, opts.workflows ?? []),
    actions(ctx, { service, loaded }) {
      ctx.actions.register({
        name: 'workflow.trigger',
        description: 'start a run of a workflow',
        input: z.strictObject({ workflow: z.string(), foreignId: z.string().min(1), object: z.unknown().optional(), start: z.string().optional() }),
        handler: async (i) => {
          await loaded;
          const run = await service.trigger(i.workflow, i.foreignId, i.object, i.start);
          return { runId: run.runId };
        },
      });
    },
    routes(_ctx, { service, loaded }) {
      return workflowRoutes(service, loaded);
    },
    ui(_ctx, { service, store, loaded }) {
      return workflowUi({
        service,
        countByRunState: (w) => store.countByRunState(w),
        countByWorkflowAndRunState: () => store.countByWorkflowAndRunState(),
        definitions: () => store.listDefinitions(),
        ready: loaded,
      });
    },
    async start(_ctx, { engine, loaded }) {
      await loaded;
      engine.start();
    },
    async stop({ engine, service }) {
      await engine.stop();
      await service.close();
    },
    cli: workflowCli,
  });
}

export { defineWorkflow, type WorkflowSpec, type AnyWorkflowSpec } from './model/builder.ts';
export type { Run, RunRecord } from './model/run.ts';
export { RunCreated, RunStatusChanged, RunCompleted, RunPaused, RunCancelled, DefinitionApplied } from './model/events.ts';
