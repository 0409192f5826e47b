/**
 * The deployment the container test runs, in one place: the image test starts its containers from it, and the
 * compose and Kubernetes tests check that deploy/ describes the same image, roles, variables and port.
 */
export { baseImageName, containerfile } from '../../scripts/image/containerfile.ts';

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

/** The repository of an image reference (`localhost/capstan:1.2` -> `localhost/capstan`). */
export function imageRepository(ref: string): string {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}
