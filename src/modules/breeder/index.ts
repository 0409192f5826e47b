/** The breeder module: live optimization of a target system (sample → effectuate → reconnoiter → guardrails → learn) behind /api/v1/breeder. */
import * as z from 'zod';
import { defineModule, parseDuration, type Module, type ModuleContext, type QueueWorker } from '../../kernel/index.ts';
import { migrations } from './store/migrations.gen.ts';
import { breederCli } from './api/cli.ts';
import { breederRoutes } from './api/routes.ts';
import { targetCommand } from './dev/target-command.ts';
import { breederUi } from './ui/routes.tsx';
import { BREEDER_QUEUE, runSlot, type SlotJob } from './runtime/loop.ts';
import { createBreederMetrics } from './runtime/metrics.ts';
import { startPush, type MetricsPusher } from './runtime/push.ts';
import { DurationText } from './model/source.ts';
import { CredentialService } from './runtime/credentials.ts';
import { BreederService } from './runtime/service.ts';
import { StopRequests } from './runtime/stop-requests.ts';
import { TargetService } from './runtime/targets.ts';
import { createBreederStore, type BreederStore } from './store/index.ts';

const configSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** `effectuation.command` runs argv on the server: off unless an operator turns it on. */
    commandEffectuation: z.boolean().default(false),
    /** When set, effectuation may call only these hosts (kernel host allowlist syntax). */
    allowHosts: z.array(z.string()).optional(),
    /** A file holding the key material (≥ 16 characters) that encrypts credentials at rest; credentials are refused without it. */
    credentialKeyFile: z.string().min(1).optional(),
    /** Trials one worker slot keeps in memory while the database is away (written when it answers again); a full buffer makes the slot wait. */
    outageBufferTrials: z.number().int().min(0).max(1_000_000).default(1000),
    /** Breeder worker slots one instance runs at once (each is one long job). */
    concurrency: z.number().int().min(1).max(10_000).default(64),
    /** Also push the breeder metrics to a Prometheus Pushgateway, for short-lived workers (runtime/push.ts). */
    push: z
      .strictObject({
        url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http or https URL'),
        interval: DurationText.refine((d) => parseDuration(d) >= 1000, 'at least 1s').default('15s'),
        job: z.string().min(1).max(200).default('capstan_breeder'),
      })
      .optional(),
  })
  .prefault({});

/** The module's configuration slice (`modules.breeder`). */
export type BreederConfig = z.output<typeof configSchema>;

/** What `init` builds once per process; `worker` is set by start where the role runs work. */
interface BreederState {
  store: BreederStore;
  service: BreederService;
  credentials: CredentialService;
  targets: TargetService;
  stops: StopRequests;
  worker?: QueueWorker;
  pusher?: MetricsPusher;
}

function init(ctx: ModuleContext<BreederConfig>): BreederState {
  const store = createBreederStore(ctx.resources.db);
  const credentials = new CredentialService(store, ctx.config.credentialKeyFile);
  const stops = new StopRequests(ctx.resources.kv);
  return { store, credentials, stops, targets: new TargetService(store), service: new BreederService(store, ctx.resources.queue, { commandsEnabled: ctx.config.commandEffectuation, stops }, ctx.log) };
}

/** Builds the module. */
export function createBreederModule(): Module {
  return defineModule({
    name: 'breeder',
    migrations,
    description: 'live optimization of real systems: samplers (TPE, NSGA-II, random, QMC, grid), guardrails, crash-safe trials',
    configSchema,
    init,
    actions(ctx, { service }) {
      ctx.actions.register({
        name: 'breeder.start',
        description: 'start a breeder (by id or name); completion is announced by breeder.breeder.completed',
        input: z.strictObject({ breeder: z.string().min(1) }),
        handler: async (i) => {
          const b = await service.start(i.breeder);
          return { breederId: b.id, generation: b.generation, status: b.status };
        },
      });
      ctx.actions.register({
        name: 'breeder.status',
        description: 'a breeder status with its trial counts and best trial',
        input: z.strictObject({ breeder: z.string().min(1) }),
        handler: async (i) => {
          const b = await service.get(i.breeder);
          const best = await service.best(b.id);
          return { breederId: b.id, status: b.status, reason: b.reason, trials: b.trials, best: best && { number: best.number, params: best.params, values: best.values } };
        },
      });
    },
    routes(_ctx, s) {
      return breederRoutes(s.service, s.credentials, s.targets);
    },
    ui(_ctx, { service }) {
      return breederUi(service);
    },
    async start(ctx, state) {
      const { store, service, credentials, targets, stops } = state;
      const deps = {
        store,
        stops,
        metrics: createBreederMetrics(ctx.resources.metrics),
        log: ctx.log,
        instanceId: ctx.resources.instanceId,
        outage: { bufferLimit: ctx.config.outageBufferTrials, retryMs: 1000 },
        policy: { commandsEnabled: ctx.config.commandEffectuation, allowHosts: ctx.config.allowHosts, credentialHeaders: (name: string) => credentials.headers(name), sshKey: (name: string) => credentials.sshKey(name), sshTarget: (name: string) => targets.ssh(name), httpTarget: (name: string) => targets.http(name) },
      };
      state.worker = await ctx.resources.queue.work<SlotJob>(BREEDER_QUEUE, (job) => runSlot(job, deps), { group: 'long', concurrency: ctx.config.concurrency });
      const push = ctx.config.push;
      if (push) state.pusher = startPush(ctx.resources.metrics, { url: push.url, intervalMs: parseDuration(push.interval), job: push.job, instance: ctx.resources.instanceId }, ctx.log);
      await service.resumeRunning();
    },
    async stop(state) {
      await state.worker?.close();
      state.worker = undefined;
      await state.stops.close();
      // After the worker: the last push carries the counts of the trials that just ended.
      await state.pusher?.stop();
      state.pusher = undefined;
    },
    cli: breederCli,
    dev: { target: targetCommand },
  });
}

export { TrialCompleted, TrialFailed, BreederStarted, BreederStopped, BreederCompleted, BreederFailed } from './model/events.ts';
