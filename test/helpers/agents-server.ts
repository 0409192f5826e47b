/** An in-process `capstan serve` with the agents module, its LLM pointed at a fake LLM server; temp git repositories; an event collector. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { createAgentsModule } from '../../src/modules/agents/index.ts';
import { fakeLlmConfig } from './cascades-server.ts';
import { jsonApi, type JsonApi } from './json-api.ts';
import { tempDir } from './server-process.ts';
import { eventually } from '../kit/index.ts';

/** Fast heartbeats and sweeps for tests. */
export const FAST_AGENTS = { enabled: true, leaseMs: 2_000, heartbeatMs: 300, sweepIntervalMs: 200, roleTtlMs: 1_000, maxRecoveries: 3 };

/** A running agents server. */
export interface AgentsServer {
  server: RunningServer;
  url: string;
  /** JSON client for /api/v1/agents. */
  api: JsonApi;
  dir: string;
}

/** Starts an embedded server (fresh data dir unless `dataDir` is given) with the agents module. */
export async function startAgentsServer(baseUrl: string, agents: Record<string, unknown> = {}, opts: { dataDir?: string; env?: Record<string, string>; flags?: Record<string, unknown> } = {}): Promise<AgentsServer> {
  const dir = opts.dataDir ?? tempDir('capstan-agents-');
  const modules = [createAgentsModule()];
  const flags = {
    'server.port': 0,
    'log.level': process.env.AGENTS_TEST_LOG ?? 'silent',
    ...(opts.env ? { 'auth.enabled': false } : { dataDir: join(dir, 'data') }),
    llm: fakeLlmConfig(baseUrl),
    'modules.agents': { ...FAST_AGENTS, worktreesDir: join(dir, 'worktrees'), artifactsDir: join(dir, 'artifacts'), ...agents },
    ...opts.flags,
  };
  const server = await startServer(loadConfig(modules, { env: opts.env ?? {}, flags }), modules, 'test');
  return { server, url: server.url!, api: jsonApi(`${server.url}/api/v1/agents`), dir };
}

/** Runs git in `cwd` (tests only; the module itself goes through the kernel's runCommand). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
}

/** A fresh repository on branch main with the given files committed. */
export function makeRepo(files: Record<string, string> = { 'README.md': '# demo\n' }): string {
  const dir = tempDir('capstan-repo-');
  git(dir, 'init', '-q', '-b', 'main');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** Waits until the agent reaches one of `statuses` and returns it. */
export async function agentIn(api: JsonApi, id: string, statuses: string[], timeout = 30_000): Promise<Record<string, any>> {
  return eventually(
    async () => {
      const r = await api('GET', `/agents/${id}`);
      if (!statuses.includes(r.body?.status)) throw new Error(`agent ${id} is ${r.body?.status} (error: ${r.body?.error}), not ${statuses.join('|')}`);
      return r.body;
    },
    { timeout, what: `agent ${id} in ${statuses.join('|')}` },
  );
}

/** Collects events of `pattern` from the server's SSE stream until stopped. */
export async function collectEvents(url: string, pattern = 'agents.>'): Promise<{ events: { type: string; data: any }[]; stop(): void }> {
  const events: { type: string; data: any }[] = [];
  const ac = new AbortController();
  const res = await fetch(`${url}/api/v1/events?pattern=${encodeURIComponent(pattern)}`, { signal: ac.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let subscribed!: () => void;
  const ready = new Promise<void>((r) => (subscribed = r));
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        if (buf.includes(': subscribed')) subscribed();
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
          if (data) events.push(JSON.parse(data));
        }
      }
    } catch {
      // Stopped.
    }
  })();
  await Promise.race([ready, new Promise((r) => setTimeout(r, 2_000))]);
  return { events, stop: () => ac.abort() };
}
