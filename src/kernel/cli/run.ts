/** The `capstan` command line: server commands (serve, migrate, config check) and client commands over HTTP. */
import { enabledMigrations } from '../boot/module-migrations.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { redactConfig } from '../config/redact.ts';
import { hashToken } from '../http/auth.ts';
import type { CliClient, Module } from '../module.ts';
import { startServer } from '../boot/serve.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { openResources } from '../boot/resources.ts';
import { parseFlags, parsePort, UsageError, wantsHelp } from './args.ts';
import { devHelp, runDev } from './dev.ts';
import { ClientError, clientOptions, request, send } from './client.ts';
import { CapstanError } from '../errors.ts';
import { claimPidFile, pidFilePath, releasePidFile } from './pid-file.ts';
import { stopServer } from './stop.ts';
import { healthProbe, runHealthProbe } from './health.ts';
import { renderTable } from './table.ts';
import { runExport, runImport } from './archive.ts';

const CONFIG_FLAG = { config: { type: 'string', short: 'c' } } as const;

function helpText(modules: readonly Module[], version: string): string {
  const aliases = modules.flatMap((m) => Object.entries(m.cliAliases ?? {}).map(([name, to]) => `  ${name.padEnd(28)}short for \`capstan ${[m.name, ...to].join(' ')}\``));
  const mods = [...modules.map((m) => `  ${m.name.padEnd(28)}${m.description}`), ...aliases].join('\n');
  return `capstan ${version} — one control plane for workflows, optimization, agents, failover and LLM cascades

Usage: capstan <command> [flags]

Server commands:
  serve [--role api|worker|all] [--port N] [--host H] [--data-dir D] [--pid-file F] [--dev] [--config F]
                              start the server (embedded unless DATABASE_URL, REDIS_URL, NATS_URL are set);
                              writes its pid to F (default D/serve.pid) while it runs; --dev reloads
                              project files (agents' extensions) when they change
  stop [--data-dir D | --pid-file F] [--config F]
                              SIGTERM the server of that pid file and wait until it has exited
  migrate [--config F]        apply database migrations and exit
  export --to FILE [--data-dir D] [--config F]
                              write every module's tables to one archive (PostgreSQL when DATABASE_URL is set,
                              else the embedded data folder, whose server must be stopped)
  import --from FILE [--replace] [--config F]
                              load an archive into this configuration's database (refuses one holding data
                              unless --replace; refuses an archive of another schema version)
  config check [--config F]   print the effective configuration (secrets redacted); exit 2 if invalid
  health [--ready] [--server URL] [--timeout MS] [--config F]
                              probe this configuration's server (/healthz, or /readyz with --ready);
                              exit 0 when it answers 200, 1 otherwise (for container health checks)
  token hash <token>          print the SHA-256 hash to put under auth.tokens[].sha256
  version                     print the version

${localHelp(modules)}Development commands (local, no server):
${devHelp(modules)}

Client commands (talk to a server: --server URL or CAPSTAN_SERVER, token from CAPSTAN_TOKEN; --json for JSON):
  status                      the server's version, mode, modules and dependency health
${mods ? `\nModule commands:\n${mods}\n` : ''}
Configuration: defaults < YAML file (--config or CAPSTAN_CONFIG) < environment (CAPSTAN_*, DATABASE_URL,
REDIS_URL, NATS_URL; nested keys as CAPSTAN_SERVER__PORT) < flags. CAPSTAN_MODULES=a,b enables only those.`;
}

/** Help lines of the modules' top-level local commands (e.g. `capstan agent`). */
function localHelp(modules: readonly Module[]): string {
  const lines = modules.flatMap((m) => Object.entries(m.commands ?? {}).map(([name, c]) => `  ${(c.usage ?? name).padEnd(28)}\n${' '.repeat(30)}${c.description}`));
  return lines.length ? `Node commands (local daemons):\n${lines.join('\n')}\n\n` : '';
}

function configFromFlags(config: string | undefined, flags: Record<string, unknown>, modules: readonly Module[]) {
  return loadConfig(modules, { file: config, flags });
}

function makeClient(argv: string[]): { client: CliClient; rest: string[] } {
  // Pull out the global client flags; everything else belongs to the command, which parses it strictly itself.
  const rest: string[] = [];
  let server: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--server') {
      server = argv[++i];
      if (!server) throw new UsageError('--server needs a URL');
    } else if (a.startsWith('--server=')) server = a.slice('--server='.length);
    else rest.push(a);
  }
  const opts = clientOptions({ server });
  const positionals = rest;
  return {
    rest: positionals,
    client: {
      server: opts.server,
      token: opts.token,
      json,
      request: (method, path, body) => request(opts, method, path, body),
      send: (method, path, what) => send(opts, method, path, what),
      print(rows, columns) {
        const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
        if (json) console.log(JSON.stringify(rows, null, 2));
        else if (Array.isArray(rows) && rows.every(isRecord)) console.log(renderTable(rows, columns));
        else if (isRecord(rows)) console.log(renderTable(Object.entries(rows).map(([key, value]) => ({ key, value })), ['key', 'value']));
        else console.log(JSON.stringify(rows, null, 2));
      },
    },
  };
}

async function serve(argv: string[], modules: readonly Module[], version: string): Promise<number> {
  const { values } = parseFlags(argv, { ...CONFIG_FLAG, role: { type: 'string' }, port: { type: 'string', short: 'p' }, host: { type: 'string' }, 'data-dir': { type: 'string' }, 'pid-file': { type: 'string' }, dev: { type: 'boolean' } });
  const cfg = configFromFlags(values.config, { 'server.dev': values.dev, 'server.role': values.role, 'server.port': parsePort(values.port), 'server.host': values.host, dataDir: values['data-dir'] }, modules);
  const server = await startServer(cfg, modules, version);
  // Written before the "serving on" line, so a script that reads that line finds the pid file too.
  const pidFile = pidFilePath(cfg.dataDir, values['pid-file']);
  try {
    const { ownedBy } = claimPidFile(pidFile);
    if (ownedBy !== undefined) console.error(`pid file ${pidFile} belongs to the running server ${ownedBy}; this one writes none (capstan stop stops that one; give --pid-file to name another)`);
  } catch (err) {
    // A read-only directory must not stop a server that runs fine without the file; only `capstan stop` needs it.
    console.error(`cannot write the pid file ${pidFile} (${(err as Error).message}); capstan stop will not find this server`);
  }
  // Handlers go in before the "serving on" line: a supervisor may signal as soon as it reads that line.
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      console.error(`received ${sig}, shutting down`);
      const force = setTimeout(() => {
        console.error(`shutdown did not finish within ${cfg.server.shutdownTimeoutMs} ms; exiting`);
        releasePidFile(pidFile);
        process.exit(1);
      }, cfg.server.shutdownTimeoutMs);
      void server.stop().then(() => {
        clearTimeout(force);
        resolve();
      });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  const what = cfg.server.role === 'worker' ? 'worker: /healthz, /readyz and /metrics only' : `console: ${server.url}/ui`;
  if (server.url) console.log(`capstan ${version} serving on ${server.url} (${what})`);
  await stopped;
  releasePidFile(pidFile);
  console.error('shutdown complete');
  return 0;
}

async function migrate(argv: string[], modules: readonly Module[]): Promise<number> {
  const { values } = parseFlags(argv, CONFIG_FLAG);
  const cfg = configFromFlags(values.config, {}, modules);
  const log = createLogger({ level: cfg.log.level });
  const resources = await openResources(cfg, log, createMetrics());
  try {
    const applied = await resources.db.migrate(enabledMigrations(modules, cfg));
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await resources.close();
  }
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const { client, rest } = makeClient(argv);
  if (rest.length > 0) throw new UsageError(`status takes no argument '${rest[0]}' (flags: --server URL, --json)`);
  const info = await client.request<{ version: string; mode: string; instanceId: string; modules: { name: string; enabled: boolean }[] }>('GET', '/api/v1');
  const ready = await fetch(new URL('/readyz', client.server)).then((r) => r.json() as Promise<{ dependencies: Record<string, { ok: boolean; kind: string; latencyMs: number; error?: string }> }>);
  if (client.json) {
    client.print({ ...info, dependencies: ready.dependencies });
    return 0;
  }
  console.log(`capstan ${info.version} at ${client.server}: ${info.mode} mode, instance ${info.instanceId}`);
  console.log(renderTable(Object.entries(ready.dependencies).map(([name, d]) => ({ dependency: name, kind: d.kind, ok: d.ok, latencyMs: d.latencyMs, error: d.error }))));
  console.log(renderTable(info.modules as unknown as Record<string, unknown>[]));
  return 0;
}

/** The kernel's own commands, whose `--help` prints their lines of the main help. */
const KERNEL_COMMANDS = new Set(['serve', 'stop', 'migrate', 'export', 'import', 'config', 'health', 'token', 'version', 'status']);

/** The lines of the main help that describe one kernel command: its usage line and the indented lines under it. */
function kernelCommandHelp(text: string, cmd: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${cmd} `) || l === `  ${cmd}`);
  if (start === -1) return `usage: capstan ${cmd}`;
  let end = start + 1;
  while (end < lines.length && lines[end]!.startsWith(' '.repeat(30))) end++;
  return `usage: capstan ${lines.slice(start, end).map((l) => l.trim()).join('\n  ')}`;
}

/** Runs one command line and returns the exit code (0 ok, 1 runtime failure, 2 usage or config error). */
export async function runCli(argv: string[], modules: readonly Module[], version: string): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && KERNEL_COMMANDS.has(cmd) && wantsHelp(rest)) {
    console.log(kernelCommandHelp(helpText(modules, version), cmd));
    return 0;
  }
  try {
    switch (cmd) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        console.log(helpText(modules, version));
        return cmd === undefined ? 2 : 0;
      case 'version':
      case '--version':
        console.log(version);
        return 0;
      case 'serve':
        return await serve(rest, modules, version);
      case 'migrate':
        return await migrate(rest, modules);
      case 'export':
        return await runExport(rest, modules, version);
      case 'import':
        return await runImport(rest, modules);
      case 'stop': {
        const { values } = parseFlags(rest, { ...CONFIG_FLAG, 'data-dir': { type: 'string' }, 'pid-file': { type: 'string' } });
        return await stopServer(configFromFlags(values.config, {}, modules), values);
      }
      case 'config': {
        if (rest[0] !== 'check') throw new UsageError(`unknown config subcommand '${rest[0] ?? ''}' (try: capstan config check)`);
        const { values } = parseFlags(rest.slice(1), CONFIG_FLAG);
        const cfg = configFromFlags(values.config, {}, modules);
        console.log(JSON.stringify(redactConfig(cfg), null, 2));
        return 0;
      }
      case 'token': {
        if (rest[0] !== 'hash' || !rest[1]) throw new UsageError('usage: capstan token hash <token>');
        console.log(hashToken(rest[1]));
        return 0;
      }
      case 'status':
        return await status(rest);
      case 'dev':
        return await runDev(rest, modules);
      case 'health': {
        const { values } = parseFlags(rest, { ...CONFIG_FLAG, ready: { type: 'boolean' }, server: { type: 'string' }, timeout: { type: 'string' } });
        return await runHealthProbe(healthProbe(configFromFlags(values.config, {}, modules), values));
      }
      default: {
        const owner = modules.find((m) => m.commands?.[cmd]);
        if (owner) {
          const cfg = loadConfig(modules, { daemon: true });
          const log = createLogger({ level: cfg.log.level });
          return await owner.commands![cmd]!.run(rest, { config: cfg.modules[owner.name] ?? { enabled: false }, natsUrl: cfg.nats.url, prefix: cfg.prefix, log });
        }
        const aliased = modules.find((m) => m.cli && m.cliAliases?.[cmd]);
        const mod = aliased ?? modules.find((m) => m.name === cmd);
        if (!mod?.cli) throw new UsageError(`unknown command '${cmd}' (see capstan --help)`);
        const { client, rest: args } = makeClient(rest);
        return await mod.cli(aliased ? [...aliased.cliAliases![cmd]!, ...args] : args, client);
      }
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof UsageError) {
      console.error(`capstan: ${err.message}`);
      return 2;
    }
    if (err instanceof ClientError) {
      console.error(`capstan: ${err.message}`);
      return 1;
    }
    if (err instanceof CapstanError && err.status < 500) {
      // Refused before sending (a definition file checked locally): the fields, as the server would name them.
      const issues = Array.isArray(err.details.issues) ? (err.details.issues as { path: string; message: string }[]) : [];
      console.error([`capstan: ${err.message}`, ...issues.map((i) => `  ${i.path}: ${i.message}`)].join('\n'));
      return 1;
    }
    console.error(`capstan: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}
