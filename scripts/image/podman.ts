/** Podman on this machine: installs it from Debian's packages when missing and sets it up the way it works here (runc, cgroupfs). */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Outside the repository, so that every checkout and CI run on this machine reuses the Debian base. */
export const CACHE_DIR = process.env.CAPSTAN_IMAGE_CACHE ?? '/var/tmp/capstan-image-cache';

/** The tools the image build and test use, each from the Debian package of the same name. */
const TOOLS = ['podman', 'runc', 'buildah', 'debootstrap'] as const;

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** `sudo` when not root and sudo exists; '' as root; undefined when neither (nothing can be installed). */
export function sudoPrefix(): string[] | undefined {
  if (process.getuid?.() === 0) return [];
  return have('sudo') ? ['sudo'] : undefined;
}

/**
 * Installs what is missing of podman, runc, buildah and debootstrap with apt. Returns undefined when Podman is
 * usable, or the reason it cannot be installed here (the caller skips then; nothing else is a reason to skip).
 */
export function ensurePodman(log: (line: string) => void): string | undefined {
  const missing = TOOLS.filter((t) => !have(t));
  if (missing.length === 0) return undefined;
  const sudo = sudoPrefix();
  if (!have('apt-get')) return have('podman') ? undefined : `podman is not installed and there is no apt-get to install ${missing.join(', ')}`;
  if (!sudo) return have('podman') ? undefined : 'podman is not installed and installing it needs root or sudo';
  log(`installing ${missing.join(', ')} from Debian's packages (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const logFile = join(CACHE_DIR, 'apt.log');
  mkdirSync(CACHE_DIR, { recursive: true });
  const script = `${sudo.join(' ')} apt-get update -qq && ${sudo.join(' ')} apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`;
  const r = spawnSync('bash', ['-c', `(${script}) > ${logFile} 2>&1`], { env, stdio: 'inherit' });
  if (!have('podman')) return `podman could not be installed with apt-get (exit ${r.status}; see ${logFile})`;
  const still = TOOLS.filter((t) => !have(t));
  if (still.length > 0) throw new Error(`podman installed but ${still.join(', ')} did not (exit ${r.status}; see ${logFile})`);
  return undefined;
}

/**
 * The containers.conf that makes Podman work here: runc cannot set RLIMIT_NPROC (so no default ulimits) and
 * crun fails on hybrid cgroups, so cgroupfs. Returns its path, for CONTAINERS_CONF.
 */
export function containersConf(): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  const path = join(CACHE_DIR, 'containers.conf');
  writeFileSync(path, '[containers]\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = "cgroupfs"\n');
  return path;
}

/** The environment every podman call gets. */
export function podmanEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CONTAINERS_CONF: containersConf() };
}

/** Runs `podman --runtime runc ARGS` to completion; output collected. */
export function podmanSync(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('podman', ['--runtime', 'runc', ...args], { env: podmanEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs a command with its output appended to `logFile`; lines matching `show` are echoed. Resolves to the exit code. */
export function runLogged(cmd: string, args: string[], logFile: string, show: RegExp, env: NodeJS.ProcessEnv = podmanEnv()): Promise<number> {
  return new Promise((resolve) => {
    const out: string[] = [];
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (d: Buffer) => {
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        out.push(line);
        if (show.test(line)) console.log(`  ${line.length > 160 ? `${line.slice(0, 157)}...` : line}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      if (partial) out.push(partial);
      writeFileSync(logFile, `${out.join('\n')}\n`, { flag: 'a' });
      resolve(code ?? 1);
    });
  });
}
