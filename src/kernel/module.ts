/** The Module contract: what a module folder exports from its index.ts, and what the kernel hands it. */
import type { Hono } from 'hono';
import type { AppEnv } from './http/app-env.ts';
import type { ApiRouter } from './http/router.ts';
import type * as z from 'zod';
import type { Resources } from './resources.ts';
import type { ActionRegistry } from './actions.ts';
import type { Migration } from './db/migration.ts';
import type { Logger } from './log.ts';
import type { SendOptions } from './cli/client.ts';

/** A module's router: any Hono (or OpenAPIHono from `createRouter`) over the kernel's request environment. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ModuleRouter = Hono<AppEnv, any, any>;

/** What a module receives when it starts: its config slice and the shared resources. */
export interface ModuleContext<C = unknown> {
  config: C;
  resources: Resources;
  /** The action registry as this module sees it: it registers only under `<module>.` and calls anyone's actions. */
  actions: ActionRegistry;
  log: Logger;
  /** `api` instances serve HTTP only, `worker` instances run jobs and consumers only, `all` both. */
  role: 'api' | 'worker' | 'all';
  /** `serve --dev` (server.dev): reload project files such as extensions when they change. */
  dev?: boolean;
}

/**
 * A module: a name, its config schema, and hooks the kernel calls in order (init, actions, routes, ui, start; stop on
 * shutdown in reverse order). `S` is what `init` builds once per process (stores, services, engines) and every later
 * hook receives, so a module keeps no state of its own in a closure. Write one with `defineModule`.
 */
export interface Module<C extends { enabled: boolean } = { enabled: boolean }, S = unknown> {
  /** Lower-case name; the route prefix `/api/v1/<name>`, table prefix, action and event type prefix. */
  name: string;
  /** One line for `capstan --help` and `/api/v1`. */
  description: string;
  /** The module's config slice, including `enabled`; must be a strict object with defaults. */
  configSchema: z.ZodType<C>;
  /**
   * The module's SQL migrations in journal order (its `store/migrations/` folder beside `store/schema.ts`, embedded
   * into `store/migrations.gen.ts` by `bun run db:generate`); applied after the kernel's when the module is enabled,
   * tracked apart from every other owner's journal.
   */
  migrations?: readonly Migration[];
  /** Builds the module's objects once per process, only when enabled; synchronous (no I/O: that belongs in start). */
  init?(ctx: ModuleContext<C>): S;
  /** Registers the module's actions (called only when enabled). */
  actions?(ctx: ModuleContext<C>, state: S): void;
  /** Routes mounted at /api/v1/<name> (only when enabled and the role serves HTTP); from `createRouter(name)`, so each is documented. */
  routes?(ctx: ModuleContext<C>, state: S): ApiRouter;
  /** Console pages mounted at /ui/<name>. */
  ui?(ctx: ModuleContext<C>, state: S): ModuleRouter;
  /** Starts workers and consumers (only when enabled and the role runs work). */
  start?(ctx: ModuleContext<C>, state: S): Promise<void>;
  /** Stops what start began; called on shutdown in reverse order. */
  stop?(state: S): Promise<void>;
  /** Client commands: `capstan <name> <argv...>` calls this with the server address resolved; returns the exit code. */
  cli?(argv: string[], client: CliClient): Promise<number>;
  /** Short top-level names for a group of client commands: `{ swarm: ['swarm'] }` makes `capstan swarm create ...` mean `capstan <name> swarm create ...`; names are global. */
  cliAliases?: Record<string, string[]>;
  /** Development helpers run locally as `capstan dev <name> ...` (e.g. a fake peer for tests); names are global. */
  dev?: Record<string, DevCommand>;
  /** Top-level local commands such as `capstan agent` (a node daemon; no server involved); names are global. */
  commands?: Record<string, LocalCommand<C>>;
}

/**
 * Declares a module with its config and state types checked against every hook, and hands it to the composition
 * root as a plain `Module`. The one widening cast lives here: the kernel calls each hook only with the context built
 * from this module's own config slice (parsed by its `configSchema`) and the state its own `init` returned.
 */
export function defineModule<C extends { enabled: boolean }, S = undefined>(definition: Module<C, S>): Module {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) throw new Error(`module name '${definition.name}' must be lower-case letters, digits and dashes, starting with a letter`);
  return definition as unknown as Module;
}

/** A local development command (no server involved): parses its own flags and returns the exit code. */
export interface DevCommand {
  /** One line for `capstan dev`. */
  description: string;
  /** The name and flags, e.g. `fake-llm [--port N]`. */
  usage?: string;
  run(argv: string[]): Promise<number>;
}

/** What a module's client commands receive: the server to talk to, and output helpers. */
export interface CliClient {
  server: string;
  token?: string;
  json: boolean;
  /** One JSON request; the body comes back untyped (command tables call routes typed instead: command-table.ts). */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** One request with a JSON or raw body (a YAML file as it is) and extra headers; non-2xx throws ClientError. */
  send(method: string, path: string, what?: SendOptions): Promise<unknown>;
  /** Prints data: JSON with --json; otherwise a list of records as a table, one record as key/value rows, anything else as JSON. */
  print(rows: unknown, columns?: string[]): void;
}

/** A top-level local command of a module: gets the loaded configuration's module slice and shared connection settings. */
export interface LocalCommand<C = unknown> {
  /** One line for `capstan --help`. */
  description: string;
  /** The name and flags. */
  usage?: string;
  run(argv: string[], ctx: { config: C; natsUrl?: string; prefix: string; log: Logger }): Promise<number>;
}
