/** Runs the image built by scripts/test-image.ts under Podman (runc, host network), one container per handle. */
import { spawn } from 'node:child_process';
import { uniqueName } from '../helpers/env.ts';

/** A loopback port free right now (containers share the host network, so each needs its own). */
export { freePort } from '../helpers/child-services.ts';

/** The image under test; scripts/test-image.ts builds it and sets this variable. */
export function imageUnderTest(): string {
  const image = process.env.CAPSTAN_TEST_IMAGE;
  if (!image) throw new Error('CAPSTAN_TEST_IMAGE is not set: run these tests with `bun run test:image`, which builds the image first');
  return image;
}

/** Runs `podman --runtime runc ARGS` (CONTAINERS_CONF from the environment); asynchronous, because the test's own servers (the shipping target) share this event loop. */
export async function podman(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('podman', ['--runtime', 'runc', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  return { code, stdout, stderr };
}

/** Like podman() but throws with the output when the command fails. */
export async function podmanOk(args: string[]): Promise<string> {
  const r = await podman(args);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** How a container is started. */
export interface RunOptions {
  /** Distinguishes this container's name within the test. */
  label: string;
  port: number;
  env: Record<string, string>;
  /** `name:/data` for the embedded mode's volume. */
  volume?: string;
  /** Read-only root with a /tmp tmpfs, as compose and the Kubernetes manifests run it. */
  readOnly?: boolean;
}

/** One container of the image, reachable on 127.0.0.1:port. */
export class Container {
  private constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  /** Starts a detached container and waits until it answers /healthz; throws with its logs if it exits or never answers. */
  static async run(o: RunOptions, timeoutMs = 180_000): Promise<Container> {
    const name = uniqueName(`capstan-${o.label}`).replace(/_/g, '-');
    const env = { ...o.env, CAPSTAN_PORT: String(o.port) };
    const args = ['run', '-d', '--name', name, '--network', 'host', '--health-interval', 'disable'];
    for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
    if (o.volume) args.push('-v', o.volume);
    if (o.readOnly) args.push('--read-only', '--tmpfs', '/tmp');
    await podmanOk([...args, imageUnderTest()]);
    const c = new Container(name, `http://127.0.0.1:${o.port}`);
    try {
      await c.waitHealthy(timeoutMs);
    } catch (err) {
      await c.remove(); // the error carries its logs; a container left running would hold the port and the CPU
      throw err;
    }
    return c;
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ok = await fetch(`${this.url}/healthz`).then((r) => r.status === 200, () => false);
      if (ok) return;
      const state = (await this.inspect()).State as { Status: string; ExitCode: number };
      if (state.Status === 'exited') throw new Error(`${this.name} exited with ${state.ExitCode} before it was healthy:\n${await this.logs()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${this.name} did not answer /healthz within ${timeoutMs} ms:\n${await this.logs()}`);
  }

  /** `podman inspect` of this container. */
  async inspect(): Promise<Record<string, unknown>> {
    return (JSON.parse(await podmanOk(['inspect', this.name])) as Record<string, unknown>[])[0]!;
  }

  /** Everything the container wrote so far (stdout and stderr). */
  async logs(): Promise<string> {
    const r = await podman(['logs', this.name]);
    return r.stdout + r.stderr;
  }

  /** Runs a command inside the container. */
  exec(argv: string[]) {
    return podman(['exec', this.name, ...argv]);
  }

  /** `podman stop -t graceS`: SIGTERM, then SIGKILL after graceS. Returns the exit code and how long it took. */
  async stop(graceS: number): Promise<{ exitCode: number; ms: number }> {
    const started = Date.now();
    await podmanOk(['stop', '-t', String(graceS), this.name]);
    const ms = Date.now() - started;
    const state = (await this.inspect()).State as { ExitCode: number };
    return { exitCode: state.ExitCode, ms };
  }

  /** Removes the container (stopping it at once if it still runs). */
  async remove(): Promise<void> {
    await podman(['rm', '-f', '-v', '-t', '0', this.name]); // -v: also the anonymous /data volume of a container run without one
  }
}
