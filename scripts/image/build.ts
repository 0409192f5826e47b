/** Builds the Containerfile with Podman the way it works here: base from local storage only, host network for the build stage's downloads. */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { podmanSync, runLogged } from './podman.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** This machine's trust store: the build stage fetches from the npm registry through whatever TLS proxy it trusts. */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** What a build produced. */
export interface BuiltImage {
  tag: string;
  seconds: number;
  sizeBytes: number;
  logFile: string;
}

/** `podman build --pull=never --format docker --network host -t TAG .`; throws with the log's path when it fails. */
export async function buildImage(tag: string): Promise<BuiltImage> {
  const logDir = join(REPO_ROOT, 'test-results');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'image-build.log');
  rmSync(logFile, { force: true });
  // --format docker keeps HEALTHCHECK (the OCI format has no field for it).
  const args = ['--runtime', 'runc', 'build', '--pull=never', '--format', 'docker', '--network', 'host', '-f', 'Containerfile', '-t', tag];
  if (existsSync(CA_BUNDLE)) args.push('--secret', `id=ca-certificates,src=${CA_BUNDLE}`);
  args.push(REPO_ROOT);
  const started = Date.now();
  const code = await runLogged('podman', args, logFile, /^\[\d\/\d\] STEP \d+\/\d+: (FROM|RUN bun|COPY --from)|^\[\d\/\d\] COMMIT|^Successfully tagged|^Error/);
  if (code !== 0) throw new Error(`podman build failed (exit ${code}); the whole output is in ${logFile}`);
  const seconds = (Date.now() - started) / 1000;
  const size = podmanSync(['image', 'inspect', '--format', '{{.Size}}', tag]);
  return { tag, seconds, sizeBytes: Number(size.stdout.trim()), logFile };
}
