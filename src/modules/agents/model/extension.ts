/**
 * Extensions: `.ts`/`.js` files in the extensions folder whose default export is a function that receives an
 * `ExtensionApi` and registers tools, commands and event handlers with it. These are the types an extension sees,
 * and the record `GET /api/v1/agents/extensions` shows for each file.
 */

/** A JSON Schema object describing a tool's arguments (`{ type: 'object', properties: {...}, required: [...] }`). */
export type JsonSchemaObject = { type: 'object'; [key: string]: unknown };

/** What an extension tool's `run` gets besides its arguments. */
export interface ExtensionToolContext {
  agentId: string;
  /** The agent's worktree (absolute path). */
  worktree: string;
  /** Aborted when the agent is killed, runs out of time or its worker stops. */
  signal: AbortSignal;
  /** Resolves a path the model gave inside the worktree (symlinks included); throws a refusal when it points outside. */
  resolvePath(path: string): string;
}

/** A tool offered to agents whose allow list permits it (no allow list: every tool), like the built-in ones. */
export interface ExtensionTool {
  /** Lower-case letters, digits and `_`; must not be a built-in tool's name or another extension's. */
  name: string;
  description: string;
  /** JSON Schema of the arguments; default: an object without properties. */
  parameters?: JsonSchemaObject;
  /** The answer the model sees (a non-string is sent as JSON); a throw is told to the model as an error. */
  run(args: unknown, ctx: ExtensionToolContext): unknown;
}

/** Output of a command, returned to the `capstan agents ext` client. */
export interface CommandIo {
  /** Adds a line to the command's output. */
  print(line: string): void;
}

/** A command run by the server for `capstan agents ext <name> [args...]`; answers the exit code (default 0). */
export interface ExtensionCommand {
  /** Lower-case letters, digits and `-`. */
  name: string;
  description: string;
  run(argv: string[], io: CommandIo): unknown;
}

/** An event as a handler receives it (the bus envelope). */
export interface ExtensionEvent {
  id: string;
  type: string;
  time: string;
  source: string;
  correlationId?: string;
  data: unknown;
}

/** What an extension's exported function receives. Registrations take effect only when the function returns without throwing. */
export interface ExtensionApi {
  /** The extension's name (its file name without the extension). */
  readonly name: string;
  registerTool(tool: ExtensionTool): void;
  registerCommand(command: ExtensionCommand): void;
  /**
   * Handles events whose type matches `pattern` (`*` one token, `>` the rest), durably: each event reaches one
   * instance, events published while no instance runs the handler are delivered when one does, and an event whose
   * handler throws (or whose instance dies while handling it) is delivered again. `name` (lower-case letters, digits,
   * `_`, `-`) keeps the handler's place in the event stream when handlers are added or reordered; without it the
   * handler is known by its position in the file.
   */
  on(pattern: string, handler: (event: ExtensionEvent) => unknown, options?: { name?: string }): void;
  /** Logs under the extension's name. */
  log(message: string, fields?: Record<string, unknown>): void;
}

/** One extension file as the server sees it. */
export interface ExtensionStatus {
  name: string;
  file: string;
  /** `loaded`: registered; `failed`: skipped (see `error`). */
  status: 'loaded' | 'failed';
  error?: string;
  tools: string[];
  commands: { name: string; description: string }[];
  events: string[];
  /** Errors thrown by its event handlers (the latest few), which do not unload it. */
  handlerErrors: { type: string; eventId: string; error: string; at: string }[];
  loadedAt: string;
}
