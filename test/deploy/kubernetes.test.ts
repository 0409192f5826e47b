/** deploy/kubernetes/: every manifest valid against the Kubernetes schemas (kubernetes-models), and the same topology as compose and the container test. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IContainer, IProbe } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig, modeOf } from '../../src/kernel/config/load.ts';
import { createWorkflowModule } from '../../src/modules/workflow/index.ts';
import { loadCompose } from '../helpers/compose-file.ts';
import { DISTRIBUTED_ENV, IMAGE, imageRepository, ROLES, type Role } from '../helpers/deployment-topology.ts';
import { REPO_ROOT } from '../helpers/server-process.ts';

const DIR = join(REPO_ROOT, 'deploy/kubernetes');

/** The model class for each kind the manifests may hold; anything else is an error. */
const MODELS = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
} as const;

interface Manifest {
  file: string;
  doc: { apiVersion: string; kind: string; metadata: { name: string } };
}

const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return { file, doc: d.toJS() as Manifest['doc'] };
    }),
  );

function one<T>(kind: string, name: string): T {
  const found = manifests.filter((m) => m.doc.kind === kind && m.doc.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0]!.doc as T;
}
const deployment = (role: Role) => one<Deployment>('Deployment', `capstan-${role}`);
const container = (role: Role): IContainer => deployment(role).spec!.template.spec!.containers[0]!;
const configMap = () => one<ConfigMap>('ConfigMap', 'capstan-config');

function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function httpProbe(p: IProbe | undefined): { path?: string; port?: string | number } | undefined {
  return p?.httpGet ? { path: p.httpGet.path, port: p.httpGet.port } : undefined;
}

describe('deploy/kubernetes', () => {
  it('every manifest is a kind we ship and valid against the Kubernetes schemas', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of manifests) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}` as keyof typeof MODELS];
      expect(Model, `${file}: ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new Model(doc as never).validate(), `${file}: ${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    }
    expect(manifests.map((m) => `${m.doc.kind}/${m.doc.metadata.name}`).sort()).toEqual(
      ['ConfigMap/capstan-config', 'Deployment/capstan-api', 'Deployment/capstan-worker', 'PodDisruptionBudget/capstan-api', 'PodDisruptionBudget/capstan-worker', 'Service/capstan-api'].sort(),
    );
  });

  it('the schema check has teeth: a wrongly typed field is refused', () => {
    const broken = structuredClone(deployment('api')) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/);
  });

  it('runs the image of the container test, one Deployment per role, with the role and exactly the container test’s variables', () => {
    const cm = configMap();
    for (const role of ROLES) {
      const c = container(role);
      expect(imageRepository(c.image!), role).toBe(IMAGE.repository);
      expect(c.args).toEqual(['serve']);
      expect(c.env!.find((e) => e.name === 'CAPSTAN_ROLE')?.value).toBe(role);
      expect(c.envFrom).toEqual([{ configMapRef: { name: 'capstan-config' } }]);
      const names = [...c.env!.map((e) => e.name), ...Object.keys(cm.data!)];
      expect(names.sort(), role).toEqual([...DISTRIBUTED_ENV].sort());
      // Service URLs carry passwords and the tokens are credentials: they come from one Secret.
      for (const e of c.env!.filter((x) => x.valueFrom)) expect(e.valueFrom!.secretKeyRef?.name, e.name).toBe('capstan-secrets');
      expect(c.ports).toEqual([{ name: 'http', containerPort: IMAGE.port, protocol: 'TCP' }]);
    }
  });

  it('probes /healthz for liveness and start-up and /readyz for readiness, on the container port', () => {
    for (const role of ROLES) {
      const c = container(role);
      expect(httpProbe(c.livenessProbe), role).toEqual({ path: IMAGE.liveness, port: 'http' });
      expect(httpProbe(c.startupProbe), role).toEqual({ path: IMAGE.liveness, port: 'http' });
      expect(httpProbe(c.readinessProbe), role).toEqual({ path: IMAGE.readiness, port: 'http' });
    }
  });

  it('gives SIGTERM the shutdown bound plus the preStop pause plus 1-10 s before SIGKILL', () => {
    const bound = Number(configMap().data!.CAPSTAN_SERVER__SHUTDOWN_TIMEOUT_MS);
    expect(bound).toBeGreaterThan(0);
    for (const role of ROLES) {
      const spec = deployment(role).spec!.template.spec!;
      const preStop = spec.containers[0]!.lifecycle?.preStop?.exec?.command;
      const pauseS = preStop ? Number(preStop.at(-1)) : 0;
      if (preStop) expect(preStop.slice(0, -1)).toEqual(['/bin/sleep']);
      const slackMs = spec.terminationGracePeriodSeconds! * 1000 - pauseS * 1000 - bound;
      expect(slackMs, role).toBeGreaterThanOrEqual(1000);
      expect(slackMs, role).toBeLessThanOrEqual(10_000);
    }
    expect(container('api').lifecycle?.preStop, 'the api keeps serving while its endpoint is removed').toBeDefined();
  });

  it('sets requests and a memory limit, runs as the image’s non-root user on a read-only root with /tmp writable', () => {
    for (const role of ROLES) {
      const spec = deployment(role).spec!.template.spec!;
      const c = spec.containers[0]!;
      expect(c.resources?.requests?.cpu, role).toBeDefined();
      expect(c.resources?.requests?.memory, role).toBeDefined();
      expect(c.resources?.limits?.memory, role).toBeDefined();
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: IMAGE.uid, runAsGroup: IMAGE.uid });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      const tmp = c.volumeMounts!.find((m) => m.mountPath === '/tmp');
      expect(spec.volumes!.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    }
  });

  it('the Service reaches the api pods only, on the named container port', () => {
    const svc = one<Service>('Service', 'capstan-api');
    expect(labelsMatch(svc.spec!.selector, deployment('api').spec!.template.metadata!.labels)).toBe(true);
    expect(labelsMatch(svc.spec!.selector, deployment('worker').spec!.template.metadata!.labels)).toBe(false);
    expect(svc.spec!.ports).toEqual([{ name: 'http', port: IMAGE.port, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('a PodDisruptionBudget per role selects that role’s pods and leaves room to drain', () => {
    for (const role of ROLES) {
      const d = deployment(role);
      expect(labelsMatch(d.spec!.selector.matchLabels, d.spec!.template.metadata!.labels), `${role} selector`).toBe(true);
      const pdb = one<PodDisruptionBudget>('PodDisruptionBudget', `capstan-${role}`);
      expect(pdb.spec!.selector!.matchLabels).toEqual(d.spec!.selector.matchLabels);
      expect(Number(pdb.spec!.minAvailable)).toBeLessThan(d.spec!.replicas!);
    }
  });

  it('matches compose: same roles, image repository, port, variables and shutdown bound; Capstan accepts the configuration', () => {
    const compose = loadCompose();
    const cm = configMap().data!;
    const modules = [createWorkflowModule()];
    for (const role of ROLES) {
      const service = compose.services[role]!;
      expect(imageRepository(service.image!)).toBe(imageRepository(container(role).image!));
      expect(service.environment!.CAPSTAN_SERVER__SHUTDOWN_TIMEOUT_MS).toBe(cm.CAPSTAN_SERVER__SHUTDOWN_TIMEOUT_MS);
      expect(service.environment!.CAPSTAN_PREFIX).toBe(cm.CAPSTAN_PREFIX);
      // The pod's environment with compose's values standing in for the Secret.
      const env: Record<string, string> = { ...cm };
      for (const e of container(role).env!) env[e.name] = e.value ?? service.environment![e.valueFrom!.secretKeyRef!.key]!;
      const cfg = loadConfig(modules, { env });
      expect(modeOf(cfg)).toBe('distributed');
      expect(cfg.server.role).toBe(role);
    }
  });
});
