/** The Module contract: what a module folder exports from its index.ts, and what the kernel hands it. */
import type { Hono } from 'hono';
import type { AppEnv } from './http/app-env.ts';
import type * as z from 'zod';
import type { Resources } from './resources.ts';
import type { ActionRegistry } from './actions.ts';
import type { Logger } from './log.ts';

/** A module's router: any Hono (or OpenAPIHono from `createRouter`) over the kernel's request environment. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ModuleRouter = Hono<AppEnv, any, any>;

/** What a module receives when it starts: its config slice and the shared resources. */
export interface ModuleContext<C = unknown> {
  config: C;
  resources: Resources;
  actions: ActionRegistry;
  log: Logger;
  /** `api` instances serve HTTP only, `worker` instances run jobs and consumers only, `all` both. */
  role: 'api' | 'worker' | 'all';
}

/** A module: a name, its config schema, and hooks the kernel calls in order (register, routes, start, stop). */
export interface Module<C extends { enabled: boolean } = { enabled: boolean }> {
  /** Lower-case name; the route prefix `/api/v1/<name>`, table prefix and event type prefix. */
  name: string;
  /** One line for `capstan --help` and `/api/v1`. */
  description: string;
  /** The module's config slice, including `enabled`; must be a strict object with defaults. */
  configSchema: z.ZodType<C>;
  /** Registers the module's actions (called only when enabled). */
  actions?(ctx: ModuleContext<C>): void;
  /** Routes mounted at /api/v1/<name> (only when enabled and the role serves HTTP). */
  routes?(ctx: ModuleContext<C>): ModuleRouter;
  /** Console pages mounted at /ui/<name>. */
  ui?(ctx: ModuleContext<C>): ModuleRouter;
  /** Starts workers and consumers (only when enabled and the role runs work). */
  start?(ctx: ModuleContext<C>): Promise<void>;
  /** Stops what start began; called on shutdown in reverse order. */
  stop?(): Promise<void>;
  /** Client commands: `capstan <name> <argv...>` calls this with the server address resolved; returns the exit code. */
  cli?(argv: string[], client: CliClient): Promise<number>;
  /** Development helpers run locally as `capstan dev <name> ...` (e.g. a fake peer for tests); names are global. */
  dev?: Record<string, DevCommand>;
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
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  print(rows: Record<string, unknown>[] | Record<string, unknown>, columns?: string[]): void;
}
