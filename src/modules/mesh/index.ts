/** The mesh module: `capstan agent` nodes on NATS JetStream KV with leases, fencing tokens and placement; API under /api/v1/mesh. */
import { defineModule, type Module } from '../../kernel/index.ts';
import { agentCommand } from './api/agent-command.ts';
import { agentWatchdogCommand } from './api/agent-watchdog-command.ts';
import { meshCli } from './api/cli.ts';
import { meshRoutes } from './api/routes.ts';
import { EMBEDDED_WARNING, MeshService } from './service.ts';
import { meshConfigSchema } from './config.ts';
import { meshUi } from './ui/routes.tsx';

export * as meshEvents from './model/events.ts';
export { workloadSpecSchema, type WorkloadSpec } from './model/workload.ts';

/** Builds the mesh module. */
export function createMeshModule(): Module {
  return defineModule({
    name: 'mesh',
    description: 'failover mesh: node agents, leases with fencing tokens, placement topologies',
    configSchema: meshConfigSchema,
    commands: { agent: agentCommand, 'agent-watchdog': agentWatchdogCommand },
    init: (ctx) => {
      const embedded = ctx.resources.mode === 'embedded';
      if (embedded && ctx.config.enabled) ctx.log.warn(EMBEDDED_WARNING);
      return new MeshService(ctx.resources.kv, ctx.resources.bus, ctx.config.timing, { embedded, log: ctx.log });
    },
    routes: (_ctx, service) => meshRoutes(service),
    ui: (_ctx, service) => meshUi(service),
    cli: meshCli,
  });
}
