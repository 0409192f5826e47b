/** The cascades module: multi-phase LLM cascades run by stateless workers, behind /api/v1/cascades. */
import * as z from 'zod';
import { defineModule, namedUnder, type Module } from '../../kernel/index.ts';
import { migrations } from './store/migrations.gen.ts';
import { cascadesCli } from './api/cli.ts';
import { cascadesRoutes } from './api/routes.ts';
import { cascadesConfigSchema } from './config.ts';
import { checkDefinition } from './model/parse-definition.ts';
import { BrowserPool } from './runtime/browser.ts';
import { createCascadeMetrics } from './runtime/metrics.ts';
import { CascadeTriggers } from './runtime/triggers.ts';
import { CascadeWorker } from './runtime/worker.ts';
import { CascadeService } from './service.ts';
import { ChildRunner } from './runtime/children.ts';
import { ArtifactStore, CascadeStore, ChildSessionStore, SessionDataStore } from './store/index.ts';
import { cascadesUi } from './ui/routes.tsx';

/** Builds the module: `init` makes the service (API side) and the worker (started only where the role runs work). */
export function createCascadesModule(): Module {
  return defineModule({
    name: 'cascades',
    migrations,
    description: 'multi-phase LLM cascades on stateless workers',
    configSchema: cascadesConfigSchema,
    init(ctx) {
      const { resources, config } = ctx;
      const store = new CascadeStore(resources.db);
      // The active gauge reads the worker made just below; a scrape before it exists reports 0.
      let worker: CascadeWorker | undefined;
      const metrics = createCascadeMetrics(resources.metrics, { countByStatus: () => store.countByStatus(), active: () => worker?.activeCount() ?? 0 });
      const data = new SessionDataStore(resources.db, config.sqlTimeoutMs);
      const children = new ChildRunner(store, new ChildSessionStore(resources.db), resources.queue, ctx.log);
      const service = new CascadeService(store, resources.queue, metrics, children);
      const b = config.browser;
      const artifacts = new ArtifactStore(resources.db);
      const saveArtifact = (sessionId: string, name: string, contentType: string, bytes: Uint8Array) => artifacts.put(sessionId, name, contentType, bytes);
      const browsers = b.enabled ? new BrowserPool({ executablePath: b.executablePath, maxPages: b.maxPages, actionTimeoutMs: b.actionTimeoutMs, saveArtifact }, ctx.log) : undefined;
      worker = new CascadeWorker({ store, queue: resources.queue, bus: resources.bus, llm: resources.llm, roles: resources.roles, log: ctx.log, owner: resources.instanceId, config, metrics, data, children, clock: resources.clock, browsers });
      const triggers = new CascadeTriggers({ store, bus: resources.bus, kv: resources.kv, roles: resources.roles, roleTtlMs: config.roleTtlMs, log: ctx.log, clock: resources.clock, start: (spec, inputs, id) => service.run(spec, inputs, id) });
      return { service, worker, triggers, artifacts };
    },
    actions(ctx, { service }) {
      ctx.actions.register({
        name: 'cascades.run',
        description: 'start a session of a saved cascade (or an inline definition) with inputs',
        input: z.strictObject({ cascade: z.union([z.string(), z.record(z.string(), z.unknown())]), inputs: z.record(z.string(), z.unknown()).default({}) }),
        handler: async (i) => {
          const s = await service.run(typeof i.cascade === 'string' ? i.cascade : namedUnder('cascade', () => checkDefinition(i.cascade)), i.inputs);
          return { sessionId: s.id };
        },
      });
    },
    routes(ctx, { service, artifacts }) {
      return cascadesRoutes(service, ctx.resources.bus, artifacts);
    },
    ui(_ctx, { service }) {
      return cascadesUi(service);
    },
    async start(_ctx, { worker, triggers }) {
      await worker.start();
      await triggers.start();
    },
    async stop({ worker, triggers }) {
      await triggers.stop();
      await worker.stop();
    },
    cli: cascadesCli,
    // The issue spells the commands `capstan cascade run file.yaml ...`; `capstan cascades` is the module's name.
    cliAliases: { cascade: [] },
  });
}

export { SessionStarted, PhaseCompleted, SessionBlocked, SessionCompleted, SessionFailed, SessionCancelled, SessionSignalled, SessionRecovered } from './model/events.ts';
export type { CascadeDefinition } from './model/definition.ts';
