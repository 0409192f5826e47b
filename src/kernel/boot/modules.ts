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

/** Prepares modules: a disabled one registers nothing and its actions answer 503 (ModuleDisabled). */
export function prepareModules(modules: readonly Module[], cfg: KernelConfig, resources: Resources, role: 'api' | 'worker' | 'all'): ModuleHost {
  const actions = new ActionRegistry();
  const enabled: { m: Module; ctx: ModuleContext<{ enabled: boolean }> }[] = [];
  const mounted: MountedModule[] = [];
  for (const m of modules) {
    const slice = cfg.modules[m.name] ?? { enabled: false };
    if (!slice.enabled) {
      actions.markDisabled(m.name);
      mounted.push({ name: m.name, description: m.description, enabled: false });
      continue;
    }
    const ctx: ModuleContext<{ enabled: boolean }> = { config: slice, resources, actions, log: resources.log.child({ module: m.name }), role };
    m.actions?.(ctx);
    const serves = role !== 'worker';
    mounted.push({
      name: m.name,
      description: m.description,
      enabled: true,
      routes: serves ? m.routes?.(ctx) : undefined,
      ui: serves ? m.ui?.(ctx) : undefined,
    });
    enabled.push({ m, ctx });
  }
  const started: Module[] = [];
  return {
    actions,
    mounted,
    async start() {
      if (role === 'api') return;
      for (const { m, ctx } of enabled) {
        await m.start?.(ctx);
        started.push(m);
      }
    },
    async stop() {
      for (const m of started.reverse()) await m.stop?.();
    },
  };
}
