/**
 * SSH effectuation against a real sshd (Debian's openssh-server) on a loopback port, in distributed mode: the key
 * is a sealed ssh_key credential, the host key is pinned, and parameter values reach the remote program as literal
 * words, variables and stdin JSON, however much shell syntax they hold.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../src/kernel/http/auth.ts';
import { branin } from '../../../src/modules/breeder/dev/functions.ts';
import { eventually } from '../../helpers/async.ts';
import { startTarget, type TargetProcess } from '../../helpers/breeder-target.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { startServer, tempDir, type ServerProcess } from '../../helpers/server-process.ts';
import { startSshd, type SshdProcess } from '../../helpers/sshd.ts';

// One ssh connection takes seconds on a loaded machine; a breeder here runs up to five of them.
const RUN_TIMEOUT = 180_000;

const ADMIN = 'ssh-e2e-admin';
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess;
let target: TargetProcess;
let sshd: SshdProcess;

beforeAll(async () => {
  db = await createTestDatabase('breedssh');
  const keyFile = join(tempDir('capstan-sshcred-'), 'key');
  writeFileSync(keyFile, 'another-test-key-of-more-than-sixteen-characters\n');
  [server, target, sshd] = await Promise.all([
    startServer({
      env: {
        DATABASE_URL: db.url,
        REDIS_URL,
        NATS_URL,
        CAPSTAN_PREFIX: uniqueName('bssh').toLowerCase(),
        CAPSTAN_AUTH__TOKENS: `[{name: e2e, sha256: ${hashToken(ADMIN)}, scopes: [admin]}]`,
        CAPSTAN_MODULES__BREEDER__CREDENTIAL_KEY_FILE: keyFile,
      },
    }),
    startTarget(['--function', 'branin']),
    startSshd(),
  ]);
  const res = await post('/credentials', { name: 'lab-key', kind: 'ssh_key', private_key: sshd.clientKey });
  expect(res.status).toBe(201);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  await target?.stop();
  await sshd?.stop();
  await db?.drop();
});

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}/api/v1/breeder${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
}
async function get<T>(path: string): Promise<T> {
  return (await fetch(`${server.url}/api/v1/breeder${path}`, { headers })).json() as Promise<T>;
}

type Trial = { number: number; state: string; params: Record<string, unknown>; values: number[] | null; error: string | null };

function ssh(argv: string[], extra: Record<string, unknown> = {}) {
  return { ssh: { host: '127.0.0.1', port: sshd.port, user: sshd.user, credential: 'lab-key', host_key: sshd.hostKey, argv, timeout: '20s', ...extra } };
}

async function runToEnd(definition: Record<string, unknown>): Promise<Trial[]> {
  const name = definition.name as string;
  const created = await post('/breeders', definition);
  expect(created.status, await created.clone().text()).toBe(201);
  expect((await post(`/breeders/${name}/start`, undefined)).status).toBe(200);
  await eventually(`${name} completed`, async () => ((await get<{ status: string }>(`/breeders/${name}`)).status === 'completed' ? true : undefined), 150_000);
  return (await get<{ items: Trial[] }>(`/breeders/${name}/trials`)).items;
}

describe('breeder ssh effectuation', () => {
  it('refuses an ssh effectuation without a pinned host key, naming the field', async () => {
    const res = await post('/breeders', {
      name: 'ssh-unpinned',
      space: { x1: { type: 'float', low: -5, high: 10 } },
      objectives: [{ name: 'v', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
      effectuation: { ssh: { host: '127.0.0.1', user: sshd.user, credential: 'lab-key', argv: ['true'] } },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('body.effectuation.ssh.host_key');
  });

  it('applies each trial through ssh: the remote curl posts the stdin JSON to the target and the reading is that trial’s Branin value', async () => {
    const trials = await runToEnd({
      name: 'ssh-branin',
      space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
      objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
      effectuation: ssh(['curl', '-sS', '-f', '-X', 'POST', '-H', 'content-type: application/json', '--data-binary', '@-', `${target.url}/apply`]),
      run: { max_trials: 3 },
      algorithm: { sampler: 'random', seed: 5 },
    });
    expect(trials.map((t) => t.state), JSON.stringify(trials)).toEqual(['complete', 'complete', 'complete']);
    for (const t of trials) expect(t.values![0]).toBeCloseTo(branin(t.params.x1 as number, t.params.x2 as number), 9);
    expect((await target.stats()).applies).toBe(3);
  }, RUN_TIMEOUT);

  it('hands values full of shell syntax to the remote program as literal words and variables', async () => {
    const log = join(sshd.dir, 'words.log');
    const pwned = join(sshd.dir, 'PWNED');
    const choices = ['plain', `$(touch ${pwned})`, `'; touch ${pwned}; echo '`, `a b"c\\d\`touch ${pwned}\`e`, '*'];
    const trials = await runToEnd({
      name: 'ssh-words',
      space: { mode: { type: 'categorical', choices } },
      objectives: [{ name: 'applies', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.applies' } } }],
      // The script is the definition's own (sh -c on purpose); the value arrives as $1 and as CAPSTAN_PARAM_MODE.
      effectuation: ssh(['sh', '-c', `printf '%s|%s\\n' "$1" "$CAPSTAN_PARAM_MODE" >> ${log}`, 'sh', '{{ params.mode }}']),
      run: { max_trials: choices.length },
      algorithm: { sampler: 'grid', seed: 1 },
    });
    expect(trials.map((t) => t.state), JSON.stringify(trials)).toEqual(choices.map(() => 'complete'));
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect([...lines].sort()).toEqual(choices.map((c) => `${c}|${c}`).sort());
    expect(existsSync(pwned)).toBe(false);
  }, RUN_TIMEOUT);

  it('takes the connection from a stored ssh target; a malformed target is refused naming the field', async () => {
    const bad = await post('/targets', { name: 'lab', kind: 'ssh', host: '-oProxyCommand=x', user: sshd.user, credential: 'lab-key', host_key: sshd.hostKey });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('body.host');
    const created = await post('/targets', { name: 'lab', kind: 'ssh', host: '127.0.0.1', port: sshd.port, user: sshd.user, credential: 'lab-key', host_key: sshd.hostKey });
    expect(created.status, await created.clone().text()).toBe(201);
    expect(await get<{ targets: { name: string; port: number }[] }>('/targets')).toMatchObject({ targets: [{ name: 'lab', port: sshd.port }] });
    const before = (await target.stats()).applies;
    const trials = await runToEnd({
      name: 'ssh-by-target',
      space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
      objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
      effectuation: { ssh: { target: 'lab', argv: ['curl', '-sS', '-f', '-X', 'POST', '-H', 'content-type: application/json', '--data-binary', '@-', `${target.url}/apply`], timeout: '20s' } },
      run: { max_trials: 2 },
      algorithm: { sampler: 'random', seed: 9 },
    });
    expect(trials.map((t) => t.state), JSON.stringify(trials)).toEqual(['complete', 'complete']);
    for (const t of trials) expect(t.values![0]).toBeCloseTo(branin(t.params.x1 as number, t.params.x2 as number), 9);
    expect((await target.stats()).applies).toBe(before + 2);
  }, RUN_TIMEOUT);

  it('fails the trial when the server shows a host key other than the pinned one', async () => {
    const trials = await runToEnd({
      name: 'ssh-wrong-host',
      space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
      objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${target.url}/metrics.json`, path: '$.value' } } }],
      effectuation: ssh(['true'], { host_key: sshd.otherHostKey }),
      run: { max_trials: 1 },
      algorithm: { sampler: 'random', seed: 1 },
    });
    expect(trials).toHaveLength(1);
    expect(trials[0]!.state).toBe('fail');
    expect(trials[0]!.error).toMatch(/^effectuation: command ssh exited 255: .*REMOTE HOST IDENTIFICATION HAS CHANGED/s);
  }, RUN_TIMEOUT);
});
