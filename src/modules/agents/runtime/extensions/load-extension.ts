/**
 * Loads one extension file: imports it afresh (so a changed file is read again), checks its default export, calls it
 * with an API that only collects registrations, and checks them. Either every registration of the file is returned or
 * the file's error: an extension is never half-registered.
 */
import { pathToFileURL } from 'node:url';
import { validatePattern } from '../../../../kernel/index.ts';
import type { ExtensionApi, ExtensionCommand, ExtensionEvent, ExtensionTool, JsonSchemaObject } from '../../model/extension.ts';
import { BUILTIN_TOOLS } from '../../model/agent.ts';

/** Tool names: what the model calls them (OpenAI allows letters, digits, _ and -; we keep to lower case and _). */
export const EXTENSION_TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const COMMAND_NAME = /^[a-z][a-z0-9-]{0,63}$/;
/** Names a handler gives itself (`on(pattern, handler, { name })`): part of its durable subscription's name. */
const HANDLER_NAME = /^[a-z0-9][a-z0-9_-]{0,47}$/;

/** What a file registered (checked: names well formed and unique within the file). */
export interface Registrations {
  tools: (ExtensionTool & { parameters: JsonSchemaObject })[];
  commands: ExtensionCommand[];
  /** `name`: the handler's own name, else its position among the file's handlers ('0', '1', ...). */
  handlers: { pattern: string; name: string; handler: (event: ExtensionEvent) => unknown }[];
}

/** An extension that failed to load: the message for its status. */
export class ExtensionError extends Error {}

let generation = 0;

/** Imports `file` bypassing the module caches (Bun's require.cache, and the importer's by a fresh query). */
async function importFresh(file: string): Promise<Record<string, unknown>> {
  delete require.cache[file];
  return (await import(/* @vite-ignore */ `${pathToFileURL(file).href}?v=${++generation}`)) as Record<string, unknown>;
}

/** Loads `file` as extension `name`; throws ExtensionError (or whatever the file threw) when it cannot be used. */
export async function loadExtension(file: string, name: string, log: (message: string, fields?: Record<string, unknown>) => void): Promise<Registrations> {
  const mod = await importFresh(file);
  const setup = mod.default;
  if (typeof setup !== 'function') throw new ExtensionError(`its default export is ${setup === undefined ? 'missing' : `a ${typeof setup}`}, not a function (export default function (capstan) { ... })`);
  const got: Registrations = { tools: [], commands: [], handlers: [] };
  let open = true;
  const closed = (what: string) => {
    if (!open) throw new ExtensionError(`${what} after the extension's function returned (register everything while it runs)`);
  };
  const api: ExtensionApi = {
    name,
    registerTool(tool) {
      closed('registerTool');
      if (!tool || typeof tool !== 'object') throw new ExtensionError('registerTool needs an object { name, description, parameters?, run }');
      if (typeof tool.name !== 'string' || !EXTENSION_TOOL_NAME.test(tool.name)) throw new ExtensionError(`tool name '${String(tool.name)}' must be lower-case letters, digits and _ (at most 64)`);
      if ((BUILTIN_TOOLS as readonly string[]).includes(tool.name)) throw new ExtensionError(`tool '${tool.name}' is a built-in tool`);
      if (got.tools.some((t) => t.name === tool.name)) throw new ExtensionError(`tool '${tool.name}' is registered twice`);
      if (typeof tool.description !== 'string' || tool.description.length === 0) throw new ExtensionError(`tool '${tool.name}' needs a description`);
      if (typeof tool.run !== 'function') throw new ExtensionError(`tool '${tool.name}' needs a run function`);
      const parameters = tool.parameters ?? { type: 'object', properties: {} };
      if (typeof parameters !== 'object' || parameters === null || parameters.type !== 'object') throw new ExtensionError(`tool '${tool.name}': parameters must be a JSON Schema with type 'object'`);
      got.tools.push({ ...tool, parameters });
    },
    registerCommand(command) {
      closed('registerCommand');
      if (!command || typeof command !== 'object') throw new ExtensionError('registerCommand needs an object { name, description, run }');
      if (typeof command.name !== 'string' || !COMMAND_NAME.test(command.name)) throw new ExtensionError(`command name '${String(command.name)}' must be lower-case letters, digits and - (at most 64)`);
      if (got.commands.some((c) => c.name === command.name)) throw new ExtensionError(`command '${command.name}' is registered twice`);
      if (typeof command.run !== 'function') throw new ExtensionError(`command '${command.name}' needs a run function`);
      got.commands.push({ ...command, description: typeof command.description === 'string' ? command.description : '' });
    },
    on(pattern, handler, options) {
      closed('on');
      try {
        validatePattern(pattern);
      } catch (err) {
        throw new ExtensionError(`on('${String(pattern)}'): ${(err as Error).message}`);
      }
      if (typeof handler !== 'function') throw new ExtensionError(`the handler of '${pattern}' is not a function`);
      const own = options?.name;
      if (own !== undefined && (typeof own !== 'string' || !HANDLER_NAME.test(own))) throw new ExtensionError(`handler name '${String(own)}' of '${pattern}' must be lower-case letters, digits, _ and - (at most 48)`);
      const handlerName = own ?? String(got.handlers.length);
      if (got.handlers.some((h) => h.name === handlerName)) throw new ExtensionError(`handler name '${handlerName}' is used twice`);
      got.handlers.push({ pattern, name: handlerName, handler });
    },
    log,
  };
  try {
    await setup(api);
  } finally {
    open = false;
  }
  return got;
}
