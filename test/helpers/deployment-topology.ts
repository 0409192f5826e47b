/**
 * The deployment the container test runs, in one place: the image test starts its containers from it, and the
 * compose and Kubernetes tests check that deploy/ describes the same image, roles, variables and port.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './server-process.ts';

/** The roles a distributed deployment runs as separate containers. */
export const ROLES = ['api', 'worker'] as const;
/** One of ROLES. */
export type Role = (typeof ROLES)[number];

/** Variables every Capstan container of a distributed deployment gets (and nothing else is needed). */
export const DISTRIBUTED_ENV = [
  'CAPSTAN_ROLE',
  'DATABASE_URL',
  'REDIS_URL',
  'NATS_URL',
  'CAPSTAN_PREFIX',
  'CAPSTAN_AUTH__TOKENS',
  'CAPSTAN_SERVER__SHUTDOWN_TIMEOUT_MS',
  'CAPSTAN_LOG_LEVEL',
] as const;

/** Values for DISTRIBUTED_ENV. */
export type DistributedEnv = Record<(typeof DISTRIBUTED_ENV)[number], string>;

/** The environment of one container of the given role, with exactly the names of DISTRIBUTED_ENV. */
export function distributedEnv(role: Role, v: Omit<DistributedEnv, 'CAPSTAN_ROLE'>): DistributedEnv {
  return { ...v, CAPSTAN_ROLE: role };
}

/** Facts of the image that every deployment file must agree with. */
export const IMAGE = {
  containerfile: 'Containerfile',
  /** The repository part of the name compose and Kubernetes use (the tag is the user's). */
  repository: 'localhost/capstan',
  port: 7070,
  dataDir: '/data',
  uid: 10001,
  liveness: '/healthz',
  readiness: '/readyz',
} as const;

/** The Containerfile's text. */
export function containerfile(): string {
  return readFileSync(join(REPO_ROOT, IMAGE.containerfile), 'utf8');
}

/** The base image the Containerfile's stages start FROM (the default of its DEBIAN_IMAGE argument). */
export function baseImageName(text = containerfile()): string {
  const m = /^ARG DEBIAN_IMAGE=(\S+)$/m.exec(text);
  if (!m) throw new Error(`${IMAGE.containerfile} has no 'ARG DEBIAN_IMAGE=<name>' line`);
  return m[1]!;
}

/** The repository of an image reference (`localhost/capstan:1.2` -> `localhost/capstan`). */
export function imageRepository(ref: string): string {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}
