/** A real Prometheus (Debian's `prometheus` binary) as a child process on a free loopback port, for the alerting e2e. */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, waitForPort } from './child-services.ts';
import { tempDir } from './server-process.ts';

/** Where Debian puts the server, if it is installed. */
export const PROMETHEUS_BIN = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));

/** One scrape job: its name, targets (host:port) and the bearer token /metrics needs. */
export interface ScrapeJob {
  job: string;
  targets: string[];
  token?: string;
}

/** A running Prometheus. */
export interface PrometheusProcess {
  url: string;
  /** GET /api/v1/<path> and return its `data` (throws when the API answers an error). */
  api<T = unknown>(path: string): Promise<T>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `jobs` every second and evaluating `ruleFiles` every second. */
export async function startPrometheus(jobs: ScrapeJob[], ruleFiles: string[]): Promise<PrometheusProcess> {
  if (!PROMETHEUS_BIN) throw new Error('prometheus is not installed (Debian package prometheus)');
  const dir = tempDir('capstan-prometheus-');
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    scrape_configs: jobs.map((j) => ({
      job_name: j.job,
      static_configs: [{ targets: j.targets }],
      ...(j.token ? { authorization: { type: 'Bearer', credentials: j.token } } : {}),
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const child = spawn(PROMETHEUS_BIN, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  void exited.then(() => process.off('exit', killOnExit));
  try {
    await waitForPort(port, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async api<T>(path: string) {
      const res = await fetch(`${url}/api/v1/${path}`);
      const body = (await res.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
      return body.data;
    },
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
