/** Module lifecycle: build each enabled module's context, register actions, mount routes, start and stop in order. */
import { ActionRegistry } from '../actions.ts';
import type { KernelConfig } from '../config/schema.ts';
import type { MountedModule } from '../http/app.ts';
import type { Module, ModuleContext } from '../module.ts';
import type { Resources } from '../resources.ts';

/** The modules of one process, prepared but not yet started. */
export interface ModuleHost {
  actions: ActionRegistry;
  mounted: MountedModule[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Prepares modules: each enabled one is initialised (`init` builds its state, kept here per process and handed to its
 * other hooks), registers its actions under its own name and gets its routes mounted; a disabled one registers nothing
 * and its actions answer 503 (ModuleDisabled).
 */
export function prepareModules(modules: readonly Module[], cfg: KernelConfig, resources: Resources, role: 'api' | 'worker' | 'all'): ModuleHost {
  const actions = new ActionRegistry();
  const enabled: { m: Module; ctx: ModuleContext<{ enabled: boolean }>; state: unknown }[] = [];
  const mounted: MountedModule[] = [];
  for (const m of modules) {
    const slice = cfg.modules[m.name] ?? { enabled: false };
    if (!slice.enabled) {
      actions.markDisabled(m.name);
      mounted.push({ name: m.name, description: m.description, enabled: false });
      continue;
    }
    const ctx: ModuleContext<{ enabled: boolean }> = { config: slice, resources, actions: actions.forModule(m.name), log: resources.log.child({ module: m.name }), role, dev: cfg.server.dev };
    const state = m.init?.(ctx);
    m.actions?.(ctx, state);
    const serves = role !== 'worker';
    mounted.push({
      name: m.name,
      description: m.description,
      enabled: true,
      routes: serves ? m.routes?.(ctx, state) : undefined,
      ui: serves ? m.ui?.(ctx, state) : undefined,
    });
    enabled.push({ m, ctx, state });
  }
  const started: { m: Module; state: unknown }[] = [];
  return {
    actions,
    mounted,
    async start() {
      if (role === 'api') return;
      for (const { m, ctx, state } of enabled) {
        await m.start?.(ctx, state);
        started.push({ m, state });
      }
    },
    async stop() {
      for (const { m, state } of started.reverse()) await m.stop?.(state);
    },
  };
}
