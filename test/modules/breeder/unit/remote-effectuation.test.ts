/**
 * The pure parts of SSH and Kubernetes effectuation: argv → one shell command line whose words a real POSIX shell
 * reads back unchanged, the ssh client's fixed options, known_hosts lines, REST paths, and the definition checks.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Invalid } from '../../../../src/kernel/index.ts';
import { parseDefinition } from '../../../../src/modules/breeder/model/definition.ts';
import { objectUrl } from '../../../../src/modules/breeder/runtime/effectuation/kubernetes.ts';
import { shellCommand, shellWord } from '../../../../src/modules/breeder/runtime/effectuation/shell-words.ts';
import { knownHostsLine, sshArgv } from '../../../../src/modules/breeder/runtime/effectuation/ssh.ts';

const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnlyAAAAAAAAAAAAAAAAAAAAAAAAA test';

function issuesOf(effectuation: unknown): string[] {
  try {
    parseDefinition({
      name: 'remote',
      space: { x: { type: 'float', low: 0, high: 1 } },
      objectives: [{ name: 'v', direction: 'minimize', source: { http: { url: 'http://127.0.0.1:1/m', path: '$.v' } } }],
      effectuation,
    });
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    return (err as Invalid).issues.map((i) => i.path);
  }
  return [];
}

describe('shell words', () => {
  const nasty = ['plain', '', ' ', "it's", "'", "''", '$(id)', '`id`', '$HOME', 'a;b', 'a&&b', 'a|b', 'x\ny', '\\', '"', '*', '~', '#c', '-n', '!x', 'é✓'];

  it('a real sh reads every word back exactly', () => {
    const line = shellCommand(['printf', '%s\\0', ...nasty]);
    const r = spawnSync('sh', ['-c', line], { env: { PATH: process.env.PATH } });
    expect(r.status).toBe(0);
    expect(r.stdout.toString().split('\0').slice(0, -1)).toEqual(nasty);
  });

  it('quotes every word, even plain ones, and refuses NUL', () => {
    expect(shellWord('abc')).toBe("'abc'");
    expect(shellWord("a'b")).toBe(`'a'\\''b'`);
    expect(() => shellWord('a\0b')).toThrow(/NUL/);
  });
});

describe('ssh client options', () => {
  const spec = { host: '127.0.0.1', port: 2222, user: 'ops', credential: 'k', host_key: HOST_KEY, host_key_check: true };

  it('pins the host key, reads no ssh config and ends options before the host', () => {
    const argv = sshArgv(spec, '90s', { key: '/tmp/k', knownHosts: '/tmp/kh' }, "'true'");
    expect(argv.slice(0, 3)).toEqual(['ssh', '-F', '/dev/null']);
    expect(argv).toContain('StrictHostKeyChecking=yes');
    expect(argv).toContain('UserKnownHostsFile=/tmp/kh');
    expect(argv).toContain('BatchMode=yes');
    expect(argv).toContain('ConnectTimeout=60');
    expect(argv.slice(-3)).toEqual(['--', '127.0.0.1', "'true'"]);
  });

  it('turns host key checking off only when asked', () => {
    const argv = sshArgv({ ...spec, host_key_check: false, host_key: undefined }, '90s', { key: '/tmp/k', knownHosts: undefined }, "'true'");
    expect(argv).toContain('StrictHostKeyChecking=no');
    expect(argv).toContain('UserKnownHostsFile=/dev/null');
  });

  it('writes known_hosts names the way OpenSSH looks them up', () => {
    expect(knownHostsLine('db1.lab', 22, HOST_KEY)).toBe(`db1.lab ${HOST_KEY.split(' ').slice(0, 2).join(' ')}\n`);
    expect(knownHostsLine('[::1]', 2222, HOST_KEY)).toMatch(/^\[::1\]:2222 ssh-ed25519 /);
  });
});

describe('remote effectuation definitions', () => {
  const ssh = { host: '10.0.0.5', user: 'ops', credential: 'lab-key', host_key: HOST_KEY, argv: ['sysctl', '-w', 'net.core.rmem_max={{ params.x }}'] };
  const k8s = { api_url: 'https://10.0.0.1:6443', credential: 'sa-token', namespace: 'web', kind: 'Deployment', name: 'api', patch: { spec: { replicas: '{{ params.x }}' } } };

  it('accepts ssh and kubernetes effectuations', () => {
    expect(issuesOf({ ssh })).toEqual([]);
    expect(issuesOf({ ssh: { ...ssh, host_key: undefined, host_key_check: false } })).toEqual([]);
    expect(issuesOf({ kubernetes: k8s })).toEqual([]);
  });

  it('refuses an ssh host or user that the client would read as an option, and a missing host key', () => {
    expect(issuesOf({ ssh: { ...ssh, host: '-oProxyCommand=sh' } })).toContain('effectuation.ssh.host');
    expect(issuesOf({ ssh: { ...ssh, host: 'a@b' } })).toContain('effectuation.ssh.host');
    expect(issuesOf({ ssh: { ...ssh, user: '-l' } })).toContain('effectuation.ssh.user');
    expect(issuesOf({ ssh: { ...ssh, host_key: undefined } })).toContain('effectuation.ssh.host_key');
    expect(issuesOf({ ssh: { ...ssh, host_key: 'not a key' } })).toContain('effectuation.ssh.host_key');
  });

  it('takes the connection from a named target, or from its own fields, never both', () => {
    expect(issuesOf({ ssh: { target: 'lab-1', argv: ['true'] } })).toEqual([]);
    expect(issuesOf({ ssh: { target: 'lab-1', host: '10.0.0.9', argv: ['true'] } })).toContain('effectuation.ssh.host');
    expect(issuesOf({ ssh: { argv: ['true'] } })).toEqual(expect.arrayContaining(['effectuation.ssh.host', 'effectuation.ssh.user', 'effectuation.ssh.credential']));
  });

  it('checks the templates of ssh argv and of the kubernetes patch', () => {
    expect(issuesOf({ ssh: { ...ssh, argv: ['echo', '{{ secrets.x }}'] } })).toContain('effectuation.ssh.argv.1');
    expect(issuesOf({ kubernetes: { ...k8s, patch: { spec: { replicas: '{{ env.X }}' } } } })).toContain('effectuation.kubernetes.patch.spec.replicas');
  });

  it('refuses a bad kind, namespace or API URL, and two kinds at once', () => {
    expect(issuesOf({ kubernetes: { ...k8s, kind: 'Pod' } })).toContain('effectuation.kubernetes.kind');
    expect(issuesOf({ kubernetes: { ...k8s, namespace: 'Web_1' } })).toContain('effectuation.kubernetes.namespace');
    expect(issuesOf({ kubernetes: { ...k8s, api_url: 'ftp://x' } })).toContain('effectuation.kubernetes.api_url');
    expect(issuesOf({ ssh, kubernetes: k8s })).toContain('effectuation');
  });

  it('builds the REST path of each kind', () => {
    expect(objectUrl({ api_url: 'https://k:6443/', namespace: 'web', kind: 'Deployment', name: 'api' })).toBe('https://k:6443/apis/apps/v1/namespaces/web/deployments/api');
    expect(objectUrl({ api_url: 'https://k:6443', namespace: 'web', kind: 'ConfigMap', name: 'tuning' })).toBe('https://k:6443/api/v1/namespaces/web/configmaps/tuning');
  });
});
