/** The module contract: defineModule's init/state lifecycle through prepareModules, and actions registered only under the module's name. */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { prepareModules } from '../../src/kernel/boot/modules.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { ActionRegistry, createRouter, defineModule, type Module, type Resources } from '../../src/kernel/index.ts';
import { createLogger } from '../../src/kernel/log.ts';

// prepareModules reads only `log` from the resources; the hooks below touch nothing else.
const resources = { log: createLogger({ level: 'silent' }) } as unknown as Resources;

/** A module whose hooks record the state object each receives, so a test can see that one init feeds them all. */
function counterModule(name: string, enabled = true) {
  const seen: { hook: string; state: unknown }[] = [];
  let inits = 0;
  const module = defineModule({
    name,
    description: 'counts',
    configSchema: z.strictObject({ enabled: z.boolean().default(enabled), step: z.number().int().default(2) }).prefault({}),
    init(ctx) {
      inits += 1;
      return { step: ctx.config.step, count: 0, instance: inits };
    },
    actions(ctx, state) {
      seen.push({ hook: 'actions', state });
      ctx.actions.register({ name: `${name}.bump`, input: z.strictObject({}), handler: async () => (state.count += state.step) });
    },
    routes(_ctx, state) {
      seen.push({ hook: 'routes', state });
      return createRouter(name);
    },
    async start(_ctx, state) {
      seen.push({ hook: 'start', state });
    },
    async stop(state) {
      seen.push({ hook: 'stop', state });
    },
  });
  return { module, seen, inits: () => inits };
}

function host(modules: Module[], role: 'api' | 'worker' | 'all' = 'all') {
  return prepareModules(modules, loadConfig(modules, { env: {} }), resources, role);
}

describe('defineModule', () => {
  it('calls init once per host and hands the same state to actions, routes, start and stop', async () => {
    const c = counterModule('counter');
    const h = host([c.module]);
    await h.start();
    await h.stop();
    expect(c.inits()).toBe(1);
    expect(c.seen.map((s) => s.hook)).toEqual(['actions', 'routes', 'start', 'stop']);
    const first = c.seen[0]!.state;
    expect(first).toMatchObject({ step: 2, instance: 1 });
    for (const s of c.seen) expect(s.state).toBe(first);
    expect(await h.actions.call('counter.bump', {})).toBe(2);
    expect(await h.actions.call('counter.bump', {})).toBe(4);
  });

  it('gives two hosts of one module object separate state (no closure shared across servers)', async () => {
    const c = counterModule('counter');
    const a = host([c.module]);
    const b = host([c.module]);
    await a.actions.call('counter.bump', {});
    await a.actions.call('counter.bump', {});
    expect(await b.actions.call('counter.bump', {})).toBe(2);
    expect(c.inits()).toBe(2);
  });

  it('does not init a disabled module, whose actions then answer ModuleDisabled', async () => {
    const c = counterModule('sleepy', false);
    const h = host([c.module]);
    expect(c.inits()).toBe(0);
    expect(c.seen).toEqual([]);
    await expect(h.actions.call('sleepy.bump', {})).rejects.toMatchObject({ status: 503 });
  });

  it('on the worker role inits, registers actions and starts, but mounts no routes', async () => {
    const c = counterModule('counter');
    const w = host([c.module], 'worker');
    await w.start();
    expect(c.seen.map((s) => s.hook)).toEqual(['actions', 'start']);
    expect(w.mounted[0]).toMatchObject({ name: 'counter', enabled: true, routes: undefined });
  });

  it('refuses a module name that cannot be a route, table or action prefix', () => {
    expect(() => defineModule({ name: 'Bad Name', description: '', configSchema: z.strictObject({ enabled: z.boolean() }) })).toThrow(/module name 'Bad Name' must be lower-case/);
  });
});

describe('actions are registered under the module name only', () => {
  it('refuses an action a module registers under another module name, naming both', () => {
    const intruder = defineModule({
      name: 'intruder',
      description: 'registers under someone else',
      configSchema: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
      actions(ctx) {
        ctx.actions.register({ name: 'workflow.trigger', input: z.unknown(), handler: async () => 'hijacked' });
      },
    });
    expect(() => host([intruder])).toThrow("module 'intruder' may register actions only under 'intruder.' (got 'workflow.trigger')");
  });

  it('refuses a name that merely starts with the module name', () => {
    const registry = new ActionRegistry().forModule('work');
    expect(() => registry.register({ name: 'workflow.trigger', input: z.unknown(), handler: async () => 1 })).toThrow(/only under 'work\.'/);
  });

  it('lets a module call the actions of another through its own view', async () => {
    const root = new ActionRegistry();
    root.forModule('math').register({ name: 'math.double', input: z.strictObject({ n: z.number() }), handler: async (i) => i.n * 2 });
    expect(await root.forModule('caller').call('math.double', { n: 21 })).toBe(42);
    expect(root.list().map((a) => a.name)).toEqual(['math.double']);
  });

  it('refuses an action name without a module part on the kernel registry too', () => {
    const root = new ActionRegistry();
    expect(() => root.register({ name: 'trigger', input: z.unknown(), handler: async () => 1 })).toThrow(/must be '<module>\.<verb>'/);
    expect(() => root.register({ name: 'Workflow.trigger', input: z.unknown(), handler: async () => 1 })).toThrow(/must be '<module>\.<verb>'/);
  });
});
