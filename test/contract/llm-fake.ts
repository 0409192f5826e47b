/** The LLM contract suite's peers: the fake LLM server as a child process (`capstan dev fake-llm`) and a client wired to it. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createLlmClient, llmConfigSchema, type LlmClient } from '../../src/kernel/index.ts';
import type { FakeStats } from '../../src/kernel/llm/fake/fake-server.ts';
import { BUN, REPO_ROOT } from '../helpers/server-process.ts';

/** A running fake server child. */
export interface FakeLlmProcess {
  url: string;
  /** The `baseUrl` a provider points at. */
  baseUrl: string;
  /** Replaces the script (and restarts its counters); the object is sent as JSON. */
  script(script: unknown): Promise<void>;
  /** Forgets requests seen and counters. */
  reset(): Promise<void>;
  stats(): Promise<FakeStats>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `capstan dev fake-llm --port 0 ...args` and waits for its "listening on" line. */
export async function spawnFakeLlm(args: string[] = [], env: Record<string, string> = {}): Promise<FakeLlmProcess> {
  const child = spawn(BUN, [join(REPO_ROOT, 'src/main.ts'), 'dev', 'fake-llm', '--port', '0', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    // Under the load of a shared machine, bun may need a while to load src/main.ts; stay below the 60 s hook timeout.
    const timer = setTimeout(() => reject(new Error(`fake-llm did not start within 55 s:\n${out}`)), 55_000);
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => reject(new Error(`fake-llm exited:\n${out}`)));
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    url,
    baseUrl: `${url}/v1`,
    script: async (s) => void (await call('PUT', '/_fake/script', s)),
    reset: async () => void (await call('POST', '/_fake/reset')),
    stats: () => call('GET', '/_fake/requests') as Promise<FakeStats>,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * One fake server child for the whole test file: started before the first test, stopped after the last, and
 * cleared (no script, counters at zero) before each test, so tests never depend on each other's order.
 */
export function fakeLlmForFile(args: string[] = [], env: Record<string, string> = {}): FakeLlmProcess {
  let fake: FakeLlmProcess | undefined;
  beforeAll(async () => {
    fake = await spawnFakeLlm(args, env);
  });
  afterAll(async () => {
    await fake?.stop();
  });
  beforeEach(async () => {
    await fake!.script({ replies: [] });
    await fake!.reset();
  });
  const started = () => {
    if (!fake) throw new Error('the fake LLM server starts in beforeAll; use it inside hooks and tests');
    return fake;
  };
  return {
    get url() {
      return started().url;
    },
    get baseUrl() {
      return started().baseUrl;
    },
    script: (x) => started().script(x),
    reset: () => started().reset(),
    stats: () => started().stats(),
    output: () => started().output(),
    stop: () => started().stop(),
  };
}

/** A client on its own registry whose log lines (debug and up) are kept for assertions. */
export interface TestClient {
  llm: LlmClient;
  registry: Registry;
  logs: string[];
}

/** Builds a client from a raw `llm` config (parsed by the real schema); `now` replaces the breaker clock. */
export function testClient(llmConfig: unknown, now?: () => number): TestClient {
  const logs: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const registry = new Registry();
  return { llm: createLlmClient({ config: llmConfigSchema.parse(llmConfig), registry, log, now }), registry, logs };
}

/** A provider block pointing at the fake server with fast retries (tests should not wait for production backoffs). */
export function fakeProvider(fake: FakeLlmProcess, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { baseUrl: fake.baseUrl, retryBaseMs: 5, retryMaxMs: 20, maxRetries: 2, ...over };
}

/** The value of one series of a metric (0 when absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  // Histograms list buckets, sum and count under one metric; only plain series are looked up here.
  const hit = data.values.find((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val) && !String((v as { metricName?: unknown }).metricName ?? '').endsWith('_bucket'));
  return hit?.value ?? 0;
}
