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

/** Registry of actions from enabled modules; disabled modules' actions answer ModuleDisabled. */
export class ActionRegistry {
  private readonly actions = new Map<string, ActionDefinition>();
  private readonly disabledModules = new Set<string>();

  /** Marks a module as disabled so calls to its actions fail with 503 instead of 404. */
  markDisabled(module: string): void {
    this.disabledModules.add(module);
  }

  /** Registers an action; its name must start with the owning module's name. */
  register<I, O>(def: ActionDefinition<I, O>): void {
    if (this.actions.has(def.name)) throw new CapstanError('Conflict', 409, `action '${def.name}' is already registered`);
    this.actions.set(def.name, def as ActionDefinition);
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
