/** The action registry: the only synchronous way modules call each other (`actions.call('cascades.run', input)`). */
import type * as z from 'zod';
import { CapstanError, Invalid, ModuleDisabled, NotFound } from './errors.ts';
import { zodIssues } from './validation.ts';

/** A named action with validated input. */
export interface ActionDefinition<I = unknown, O = unknown> {
  /** `<module>.<verb>` */
  name: string;
  description?: string;
  input: z.ZodType<I>;
  handler: (input: I) => Promise<O>;
}

// `<module>.<verb>`: the module part is what `call` maps to ModuleDisabled, so it must be there and be plain.
const ACTION_NAME = /^([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9_.-]*)$/;

/**
 * Registry of actions from enabled modules; disabled modules' actions answer ModuleDisabled. A module is handed the
 * view `forModule(name)` returns (same actions, but it registers only under `<name>.`).
 */
export class ActionRegistry {
  constructor(
    private readonly actions = new Map<string, ActionDefinition>(),
    private readonly disabledModules = new Set<string>(),
    /** Set on a module's view: the only prefix it may register under. */
    private readonly owner?: string,
  ) {}

  /** Marks a module as disabled so calls to its actions fail with 503 instead of 404. */
  markDisabled(module: string): void {
    this.disabledModules.add(module);
  }

  /** Registers an action named `<module>.<verb>`; on a module's view, `<module>` must be that module. */
  register<I, O>(def: ActionDefinition<I, O>): void {
    if (this.owner !== undefined && !def.name.startsWith(`${this.owner}.`)) throw new CapstanError('Invalid', 400, `module '${this.owner}' may register actions only under '${this.owner}.' (got '${def.name}')`);
    if (!ACTION_NAME.test(def.name)) throw new CapstanError('Invalid', 400, `action name '${def.name}' must be '<module>.<verb>' (lower-case module name, a dot, then the verb)`);
    if (this.actions.has(def.name)) throw new CapstanError('Conflict', 409, `action '${def.name}' is already registered`);
    this.actions.set(def.name, def as ActionDefinition);
  }

  /** The view handed to module `module`: the same actions, but its registrations must start with `<module>.`. */
  forModule(module: string): ActionRegistry {
    return new ActionRegistry(this.actions, this.disabledModules, module);
  }

  /** Calls an action by name after validating its input. */
  async call<O = unknown>(name: string, input: unknown): Promise<O> {
    const def = this.actions.get(name);
    if (!def) {
      const module = name.split('.')[0] ?? name;
      if (this.disabledModules.has(module)) throw new ModuleDisabled(module);
      throw new NotFound(`action '${name}'`);
    }
    const parsed = def.input.safeParse(input);
    if (!parsed.success) throw new Invalid(`invalid input for action '${name}'`, zodIssues(parsed.error));
    return (await def.handler(parsed.data)) as O;
  }

  /** Names and descriptions of registered actions. */
  list(): { name: string; description?: string }[] {
    return [...this.actions.values()].map((a) => ({ name: a.name, description: a.description }));
  }
}
