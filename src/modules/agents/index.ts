/**
 * The agents module: AI agents that work in their own git worktrees under budgets and safety rules, behind
 * /api/v1/agents. CLI: `capstan agents ...` (`capstan agent` is the mesh node daemon).
 */
import { defineModule, Invalid, type Module, type ModuleContext } from '../../kernel/index.ts';
import { migrations } from './store/migrations.gen.ts';
import { agentsCli } from './api/cli.ts';
import { agentsRoutes } from './api/agent-routes.ts';
import { agentsConfigSchema, resolveFolders, type AgentsSettings } from './config.ts';
import { BUILTIN_TOOLS, spawnSchema, type SpawnInput } from './model/agent.ts';
import { ExtensionHost } from './runtime/extensions/host.ts';
import { extensionRoutes } from './api/extension-routes.ts';
import { builtinLoop } from './runtime/builtin-loop.ts';
import { cliRuntime } from './runtime/cli-runtime.ts';
import { SkillLibrary } from './runtime/skills.ts';
import { limitGit } from './runtime/worktree.ts';
import { agentMetrics, swarmCapacityGauge } from './runtime/metrics.ts';
import { AgentWorker } from './runtime/worker.ts';
import { AgentService } from './service.ts';
import { AgentStore, SwarmStore } from './store/index.ts';
import { swarmRoutes } from './api/swarm-routes.ts';
import { skillRoutes } from './api/skill-routes.ts';
import { agentsUi } from './ui/routes.tsx';
import { SwarmEngine } from './runtime/swarm-engine.ts';
import { swarmSchema } from './model/swarm.ts';

/** Builds the module; state lives in the closure, one per process. */
export function createAgentsModule(): Module {
  let state: { service: AgentService; worker: AgentWorker; engine: SwarmEngine; store: AgentStore; swarms: SwarmStore; skills: SkillLibrary; extensions: ExtensionHost } | undefined;

  function ensure(ctx: ModuleContext<AgentsSettings>) {
    if (state) return state;
    const r = ctx.resources;
    const config = resolveFolders(ctx.config, r.dataDir);
    const metrics = agentMetrics(r.metrics);
    limitGit(config.gitConcurrency);
    const store = new AgentStore(r.db);
    const checkCli = (name: string | undefined) => {
      const known = Object.keys(config.cliRuntimes);
      if (!name || !known.includes(name)) throw new Invalid(`runtime cli needs one of the configured CLI runtimes (${known.join(', ') || 'none configured'})`, [{ path: 'body.cli', message: name ? `no CLI runtime '${name}'` : 'required with runtime cli' }]);
    };
    const skills = new SkillLibrary(config.skillsDirs, ctx.log);
    const extensions = new ExtensionHost(config.extensionsDir, r.bus, ctx.log, r.clock, 'agents', { maxDeliver: config.extensionMaxDeliver, ackWaitMs: config.extensionAckWaitMs });
    if (config.watchExtensions ?? ctx.dev) extensions.watch();
    const checkNames = async (input: SpawnInput) => {
      const known = new Set(skills.load().skills.map((s) => s.name));
      const issues = input.skills.flatMap((n, i) => (known.has(n) ? [] : [{ path: `body.skills.${i}`, message: `no skill '${n}'` }]));
      await extensions.ready;
      const tools = new Set<string>([...BUILTIN_TOOLS, ...extensions.tools().map((t) => t.name)]);
      for (const list of ['allow', 'deny'] as const) {
        (input.tools[list] ?? []).forEach((n, i) => {
          if (!tools.has(n)) issues.push({ path: `body.tools.${list}.${i}`, message: `no tool '${n}' (built in or from a loaded extension)` });
        });
      }
      if (issues.length > 0) throw new Invalid('unknown skills or tools', issues);
    };
    const service = new AgentService(store, r.queue, r.llm, config, checkCli, checkNames);
    const swarms = new SwarmStore(r.db);
    swarmCapacityGauge(r.metrics, () => swarms.capacities());
    const engine = new SwarmEngine(swarms, store, service, r.queue, ctx.log);
    service.afterKill.push((a) => engine.agentEnded(a));
    const worker = new AgentWorker({
      store,
      queue: r.queue,
      bus: r.bus,
      llm: r.llm,
      roles: r.roles,
      log: ctx.log,
      clock: r.clock,
      owner: r.instanceId,
      config,
      metrics,
      runtimes: { builtin: builtinLoop, cli: cliRuntime },
      channel: (a) => engine.channel(a),
      skillsPrompt: async (a) => skills.prompt(a.spec.task, a.spec.skills),
      skill: (n) => skills.get(n)?.body,
      extensionTools: () => extensions.tools(),
      onEnded: [(a) => engine.agentEnded(a)],
      sweepMore: () => engine.advanceAll(),
    });
    state = { service, worker, engine, store, swarms, skills, extensions };
    return state;
  }

  return defineModule({
    name: 'agents',
    migrations,
    description: 'AI agents in isolated git worktrees, with budgets, safety rules and swarms',
    configSchema: agentsConfigSchema,
    actions(ctx) {
      const { service } = ensure(ctx);
      ctx.actions.register({
        name: 'agents.run',
        description: 'spawn an agent on a task in a git repository; answers its id (poll GET /api/v1/agents/agents/{id})',
        input: spawnSchema,
        handler: async (i) => {
          const a = await service.spawn(i);
          return { agentId: a.id, branch: a.branch };
        },
      });
      ctx.actions.register({
        name: 'agents.swarm',
        description: 'create a swarm (parallel, pipeline, map-reduce or tree); answers its id (poll GET /api/v1/agents/swarms/{id})',
        input: swarmSchema,
        handler: async (i) => ({ swarmId: (await state!.engine.create(i)).id }),
      });
    },
    routes(ctx) {
      const s = ensure(ctx);
      return agentsRoutes(s.service, ctx.resources.bus, [swarmRoutes(s.engine, s.swarms, s.store), skillRoutes(s.skills), extensionRoutes(s.extensions)]);
    },
    ui(ctx) {
      const s = ensure(ctx);
      return agentsUi(s.service, s.swarms);
    },
    async start(ctx) {
      await ensure(ctx).worker.start();
    },
    async stop() {
      await state?.worker.stop();
      await state?.extensions.stop();
      state = undefined;
    },
    cli: agentsCli,
    // The issue's `capstan swarm create -f swarm.yaml | show ID` (`capstan agent` is the mesh daemon, so agents keep `capstan agents`).
    cliAliases: { swarm: ['swarm'] },
  });
}

export { AgentQueued, AgentStarted, AgentTurn, AgentPaused, AgentCompleted, AgentFailed, AgentKilled, BudgetWarning, BudgetExceeded, SafetyBlocked, SwarmStarted, SwarmStep, SwarmCompleted, SwarmFailed, SwarmMessage, SwarmScaled } from './model/events.ts';
export type { Agent, AgentStatus, SpawnInput } from './model/agent.ts';
