/**
 * The extensions of this instance: every `.ts`/`.js` file of the extensions folder, loaded at start (and again when
 * it changes under `serve --dev`). A file that fails (throws, exports no function, registers a bad or taken name) is
 * logged, listed with its error and skipped; a handler that throws is logged and listed, and the server goes on.
 * Handlers are durable subscriptions on the kernel bus, one per extension and handler, shared by every instance.
 */
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { boundedName, MAX_DURABLE_NAME, type Clock, type EventBus, type Logger, type Subscription, type Timer } from '../../../../kernel/index.ts';
import type { ExtensionStatus } from '../../model/extension.ts';
import { resolveInside } from '../paths.ts';
import type { Tool } from '../tools/context.ts';
import { loadExtension, type Registrations } from './load-extension.ts';

const FILE = /^[^.].*(?<!\.d)\.(ts|js|mjs)$/;
const HANDLER_ERRORS_KEPT = 10;
/** Several writes of one save arrive as several change events; one reload after they settle. */
const RELOAD_SETTLE_MS = 100;

interface Entry {
  status: ExtensionStatus;
  registrations?: Registrations;
  subscriptions: Subscription[];
}

/** How the handlers' durable subscriptions redeliver. */
export interface HandlerDelivery {
  /** Deliveries of an event whose handler keeps throwing before it is given up for that handler. */
  maxDeliver: number;
  /** An event not handled within this time is delivered again (its instance died, or the handler hangs). */
  ackWaitMs: number;
}

/**
 * The durable subscription of an extension's handler: the same on every instance and across restarts and reloads, so
 * the instances share one cursor (each event reaches one of them) and a restarted server continues from it. `/` cannot
 * occur in a file name or a handler name, so two extensions never share a durable; boundedName makes it valid.
 */
export function handlerDurableName(namespace: string, extension: string, handler: string): string {
  return boundedName(`${namespace}-ext/${extension}/${handler}`, MAX_DURABLE_NAME);
}

/** What a command answers to the client. */
export interface CommandOutcome {
  exitCode: number;
  output: string[];
}

/** Loads, lists, reloads and unloads extensions; hands their tools to agents and runs their commands. */
export class ExtensionHost {
  private readonly entries = new Map<string, Entry>();
  private readonly dir: string;
  private watcher: FSWatcher | undefined;
  private readonly pendingReloads = new Map<string, Timer>();
  /** Loads and reloads run one at a time, so two changes of one file never register twice. */
  private chain: Promise<void> = Promise.resolve();
  /** Settles when the first load of the folder is done (never rejects). */
  readonly ready: Promise<void>;

  constructor(
    dir: string,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly clock: Clock,
    /** Namespaces the handlers' durable subscriptions (the module's name). */
    private readonly namespace: string,
    private readonly delivery: HandlerDelivery,
  ) {
    this.dir = resolve(dir);
    this.ready = this.serially(() => this.loadAll());
  }

  /** Every extension file seen, loaded or failed, by name. */
  list(): ExtensionStatus[] {
    return [...this.entries.values()].map((e) => structuredClone(e.status)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The tools of loaded extensions, as the tool loop uses them. */
  tools(): Tool[] {
    return [...this.entries.values()].flatMap((e) =>
      (e.registrations?.tools ?? []).map(
        (t): Tool => ({
          name: t.name,
          description: t.description,
          parameters: t.parameters,
          async run(args, ctx) {
            const answer = await t.run(args, { agentId: ctx.agentId, worktree: ctx.root, signal: ctx.signal, resolvePath: (p) => resolveInside(ctx.root, p) });
            return typeof answer === 'string' ? answer : (JSON.stringify(answer) ?? '');
          },
        }),
      ),
    );
  }

  /** Runs a command of a loaded extension; a throw is exit code 1 with the error as the last line. Undefined when no extension has it. */
  async runCommand(name: string, argv: string[]): Promise<CommandOutcome | undefined> {
    const found = [...this.entries.values()].find((e) => e.registrations?.commands.some((c) => c.name === name));
    const command = found?.registrations?.commands.find((c) => c.name === name);
    if (!found || !command) return undefined;
    const output: string[] = [];
    try {
      const code = await command.run([...argv], { print: (line) => void output.push(String(line)) });
      return { exitCode: typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 255 ? code : 0, output };
    } catch (err) {
      this.log.warn({ extension: found.status.name, command: name, err: (err as Error).message }, 'extension command failed');
      output.push(`error: ${(err as Error).message}`);
      return { exitCode: 1, output };
    }
  }

  /** Reloads a file when it is written, loads a new one, unloads a removed one (serve --dev). */
  watch(): void {
    if (this.watcher) return;
    if (!existsSync(this.dir)) {
      this.log.info({ dir: this.dir }, 'no extensions folder to watch');
      return;
    }
    this.watcher = watch(this.dir, (_event, filename) => {
      if (!filename || !FILE.test(filename)) return;
      this.pendingReloads.get(filename)?.cancel();
      this.pendingReloads.set(
        filename,
        this.clock.setTimeout(() => {
          this.pendingReloads.delete(filename);
          void this.serially(() => this.reloadFile(join(this.dir, filename)));
        }, RELOAD_SETTLE_MS),
      );
    });
    this.log.info({ dir: this.dir }, 'watching extensions for changes');
  }

  /** Stops watching and unsubscribes every handler. */
  async stop(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    for (const t of this.pendingReloads.values()) t.cancel();
    this.pendingReloads.clear();
    await this.serially(async () => {
      for (const name of [...this.entries.keys()]) await this.unload(name);
    });
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'extension host step failed'));
    this.chain = next;
    return next;
  }

  private async loadAll(): Promise<void> {
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir).filter((n) => FILE.test(n)).sort()) await this.loadFile(join(this.dir, f));
  }

  private async reloadFile(file: string): Promise<void> {
    const name = nameOf(file);
    if (!existsSync(file)) {
      if (this.entries.get(name)?.status.file === file) {
        await this.unload(name);
        this.log.info({ extension: name, file }, 'extension removed');
      }
      return;
    }
    await this.loadFile(file);
  }

  private async loadFile(file: string): Promise<void> {
    const name = nameOf(file);
    const previous = this.entries.get(name);
    const now = this.clock.date().toISOString();
    const status: ExtensionStatus = { name, file, status: 'failed', tools: [], commands: [], events: [], handlerErrors: [], loadedAt: now };
    if (previous && previous.status.file !== file && existsSync(previous.status.file)) {
      status.error = `the name '${name}' is taken by ${basename(previous.status.file)}`;
      this.log.warn({ extension: name, file, error: status.error }, 'extension skipped');
      return;
    }
    // The previous version stays listed and usable until the new one has loaded (or failed): a listing during a reload
    // never misses the extension, nor shows a half-made entry.
    const entry: Entry = { status, subscriptions: [] };
    try {
      const got = await loadExtension(file, name, (message, fields) => this.log.info({ extension: name, ...fields }, message));
      this.checkTaken(name, got);
      for (const h of got.handlers) {
        // Durable: events published while no instance runs the handler wait for it; one cursor for every instance, so
        // each event reaches one of them; acked when the handler returns, delivered again when it throws or its
        // instance dies (after ackWaitMs). A handler whose pattern changed takes over its durable from the new pattern
        // on ('replace'): the events of the old pattern no longer concern it.
        const durable = { name: handlerDurableName(this.namespace, name, h.name), pattern: h.pattern, start: 'new' as const, maxDeliver: this.delivery.maxDeliver, ackWaitMs: this.delivery.ackWaitMs, onPatternChange: 'replace' as const };
        entry.subscriptions.push(await this.bus.durable(durable, (event) => this.handle(entry, h.handler, event)));
      }
      entry.registrations = got;
      Object.assign(status, { status: 'loaded', tools: got.tools.map((t) => t.name), commands: got.commands.map((c) => ({ name: c.name, description: c.description })), events: got.handlers.map((h) => h.pattern) });
      this.log.info({ extension: name, file, tools: status.tools, commands: status.commands.length, events: status.events }, previous ? 'extension reloaded' : 'extension loaded');
    } catch (err) {
      for (const s of entry.subscriptions.splice(0)) await s.unsubscribe().catch(() => undefined);
      status.error = (err as Error)?.message ?? String(err);
      this.log.warn({ extension: name, file, error: status.error }, 'extension skipped');
    }
    await this.replace(name, entry);
  }

  /** Puts `entry` in the list in one step, then lets the version it replaces go (its handlers unsubscribed). */
  private async replace(name: string, entry: Entry): Promise<void> {
    const old = this.entries.get(name);
    this.entries.set(name, entry);
    if (!old || old === entry) return;
    for (const s of old.subscriptions) await s.unsubscribe().catch((err: unknown) => this.log.warn({ extension: name, err: (err as Error).message }, 'unsubscribe failed'));
  }

  /** Tool and command names are global: the file that comes later loses. */
  private checkTaken(name: string, got: Registrations): void {
    for (const [other, e] of this.entries) {
      if (other === name || !e.registrations) continue;
      const tool = got.tools.find((t) => e.registrations!.tools.some((u) => u.name === t.name));
      if (tool) throw new Error(`tool '${tool.name}' is registered by extension '${other}' already`);
      const command = got.commands.find((c) => e.registrations!.commands.some((u) => u.name === c.name));
      if (command) throw new Error(`command '${command.name}' is registered by extension '${other}' already`);
    }
  }

  /** Runs a handler; a throw is logged and listed, then passed on so that the bus delivers the event again. */
  private async handle(entry: Entry, handler: Registrations['handlers'][number]['handler'], event: Parameters<Registrations['handlers'][number]['handler']>[0]): Promise<void> {
    try {
      await handler(event);
    } catch (err) {
      const error = (err as Error)?.message ?? String(err);
      this.log.warn({ extension: entry.status.name, type: event.type, eventId: event.id, error }, 'extension event handler failed; the event will be delivered again');
      entry.status.handlerErrors.push({ type: event.type, eventId: event.id, error, at: this.clock.date().toISOString() });
      entry.status.handlerErrors.splice(0, Math.max(0, entry.status.handlerErrors.length - HANDLER_ERRORS_KEPT));
      throw err;
    }
  }

  private async unload(name: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    this.entries.delete(name);
    for (const s of e.subscriptions) await s.unsubscribe().catch((err: unknown) => this.log.warn({ extension: name, err: (err as Error).message }, 'unsubscribe failed'));
  }
}

function nameOf(file: string): string {
  return basename(file).replace(/\.(ts|js|mjs)$/, '');
}
