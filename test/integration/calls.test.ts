/** The kernel's outbound calls against a real loopback HTTP server and real programs. */
import { mkdtempSync, writeFileSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallFailed, CallRefused, Invalid, callHttp, hostAllowed, isTransient, parseHostAllowlist, runCommand } from '../../src/kernel/index.ts';

/** The error a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('callHttp', () => {
  let server: ReturnType<typeof Bun.serve>;
  let base: string;
  const seen: { method: string; path: string; headers: Record<string, string>; body: string }[] = [];
  let hangRelease: () => void = () => {};

  beforeAll(() => {
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        const headers: Record<string, string> = {};
        req.headers.forEach((v, k) => (headers[k] = v));
        seen.push({ method: req.method, path: url.pathname, headers, body: await req.text() });
        if (url.pathname === '/json') return Response.json({ ok: true, echo: seen.at(-1)!.body ? JSON.parse(seen.at(-1)!.body) : null });
        if (url.pathname === '/empty') return new Response(null, { status: 204 });
        if (url.pathname === '/text') return new Response('plain words');
        if (url.pathname === '/busy') return new Response('try later', { status: 503 });
        if (url.pathname === '/missing') return new Response('no such thing', { status: 404 });
        if (url.pathname === '/redirect') return Response.redirect(`${base}/json`, 302);
        if (url.pathname === '/hang') return new Promise<Response>((resolve) => (hangRelease = () => resolve(new Response('late'))));
        return new Response('?', { status: 400 });
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    hangRelease();
    await server.stop(true);
  });

  it('sends JSON and parses the JSON answer, with the caller headers over the defaults', async () => {
    const answer = await callHttp({ method: 'post', url: `${base}/json`, headers: { 'x-trace': 't-1' }, body: { n: 1, s: 'é' } });
    expect(answer).toEqual({ ok: true, echo: { n: 1, s: 'é' } });
    const req = seen.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-trace']).toBe('t-1');
    expect(await callHttp({ method: 'GET', url: `${base}/json` })).toEqual({ ok: true, echo: null });
    expect(seen.at(-1)!.body).toBe('');
    expect(await callHttp({ method: 'DELETE', url: `${base}/empty` })).toBeUndefined();
  });

  it('fails with the status, so 5xx is transient and 4xx is not', async () => {
    const busy = await failure(callHttp({ method: 'GET', url: `${base}/busy` }));
    expect(busy).toBeInstanceOf(CallFailed);
    expect(busy.message).toBe(`GET ${base}/busy answered 503: try later`);
    expect(isTransient(busy)).toBe(true);
    const missing = await failure(callHttp({ method: 'GET', url: `${base}/missing` }));
    expect((missing as CallFailed).status).toBe(404);
    expect(isTransient(missing)).toBe(false);
    expect((await failure(callHttp({ method: 'GET', url: `${base}/text` }))).message).toContain('answered with non-JSON: plain words');
  });

  it('times out a call that never answers, and stops at once when aborted', async () => {
    const slow = await failure(callHttp({ method: 'GET', url: `${base}/hang`, timeoutMs: 50 }));
    expect(slow).toBeInstanceOf(CallFailed);
    expect(slow.message).toBe(`GET ${base}/hang failed: timed out after 50 ms`);
    const ctl = new AbortController();
    const call = callHttp({ method: 'GET', url: `${base}/hang`, signal: ctl.signal });
    ctl.abort();
    expect(await failure(call)).toBeInstanceOf(CallFailed);
  });

  it('fails on a refused connection as a transient error', async () => {
    const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    const closedPort = probe.port;
    await probe.stop(true);
    const err = await failure(callHttp({ method: 'GET', url: `http://127.0.0.1:${closedPort}/` }));
    expect(err).toBeInstanceOf(CallFailed);
  });

  it('calls only allowed hosts and does not follow redirects when hosts are restricted', async () => {
    const allow = [`127.0.0.1:${server.port}`];
    expect(await callHttp({ method: 'GET', url: `${base}/json` }, { allowHosts: allow })).toEqual({ ok: true, echo: null });
    const before = seen.length;
    const refused = await failure(callHttp({ method: 'GET', url: `http://localhost:${server.port}/json` }, { allowHosts: allow }));
    expect(refused).toBeInstanceOf(CallRefused);
    expect(refused.message).toContain("host 'localhost:");
    expect(await failure(callHttp({ method: 'GET', url: `${base}/json` }, { allowHosts: ['127.0.0.1:1'] }))).toBeInstanceOf(CallRefused);
    expect(await failure(callHttp({ method: 'GET', url: `${base}/json` }, { allowHosts: [] }))).toBeInstanceOf(CallRefused);
    expect(seen.length).toBe(before); // refused calls send nothing
    const redirect = await failure(callHttp({ method: 'GET', url: `${base}/redirect` }, { allowHosts: allow }));
    expect(redirect.message).toContain('redirect (302)');
    expect(await callHttp({ method: 'GET', url: `${base}/redirect` })).toEqual({ ok: true, echo: null }); // unrestricted: followed
  });

  it('refuses non-HTTP schemes and malformed URLs before sending', async () => {
    expect(await failure(callHttp({ method: 'GET', url: 'file:///etc/passwd' }))).toBeInstanceOf(CallRefused);
    expect(await failure(callHttp({ method: 'GET', url: 'not a url' }))).toBeInstanceOf(Invalid);
  });
});

describe('host allowlist rules', () => {
  const rules = parseHostAllowlist(['api.example.com', '*.svc.local', '127.0.0.1:8080', '[::1]:9000', 'HTTPS.Example.org:443']);
  const ok = (u: string): boolean => hostAllowed(new URL(u), rules);

  it('matches hosts, subdomain wildcards and ports, case-insensitively', () => {
    expect(ok('https://api.example.com/x')).toBe(true);
    expect(ok('http://API.EXAMPLE.COM:81/')).toBe(true);
    expect(ok('https://evil.api.example.com/')).toBe(false);
    expect(ok('https://api.example.com.evil.net/')).toBe(false);
    expect(ok('http://a.svc.local/')).toBe(true);
    expect(ok('http://a.b.svc.local/')).toBe(true);
    expect(ok('http://svc.local/')).toBe(false);
    expect(ok('http://xsvc.local/')).toBe(false);
    expect(ok('http://127.0.0.1:8080/')).toBe(true);
    expect(ok('http://127.0.0.1/')).toBe(false);
    expect(ok('http://[::1]:9000/')).toBe(true);
    expect(ok('https://https.example.org/')).toBe(true); // default port of the scheme
    expect(ok('http://https.example.org/')).toBe(false);
    expect(ok('http://user@api.example.com@evil.net/')).toBe(false);
  });

  it('rejects malformed entries naming the entry', () => {
    for (const bad of ['http://x', 'a b', '*', 'host:port', '*.', '']) {
      expect(() => parseHostAllowlist(['ok.example', bad])).toThrow(Invalid);
    }
    try {
      parseHostAllowlist(['ok', 'x/y']);
    } catch (err) {
      expect((err as Invalid).issues[0]!.path).toBe('allowHosts.1');
    }
  });
});

describe('runCommand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'capstan-calls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes each argument as it is: shell syntax is never interpreted', async () => {
    const marker = join(dir, 'pwned');
    const args = ['$(touch ' + marker + ')', '`id`', '; touch ' + marker, '*', '"quoted" \'x\'', 'a\nb'];
    const out = await runCommand(['printf', '%s|', ...args]);
    expect(out).toBe(args.map((a) => `${a}|`).join(''));
    expect(existsSync(marker)).toBe(false);
  });

  it('returns stdout, feeds stdin, honours cwd and env', async () => {
    expect(await runCommand(['cat'], { stdin: 'from stdin' })).toBe('from stdin');
    expect((await runCommand(['pwd'], { cwd: dir })).trim()).toBe(dir);
    expect(await runCommand(['printenv', 'CAPSTAN_X'], { env: { CAPSTAN_X: 'y', PATH: process.env.PATH } })).toBe('y\n');
  });

  it('fails with the exit code and stderr, on a missing program and on an empty argv', async () => {
    const script = join(dir, 'fail.sh');
    writeFileSync(script, '#!/bin/sh\necho "bad thing" >&2\nexit 3\n');
    chmodSync(script, 0o755);
    const err = await failure(runCommand([script]));
    expect(err).toBeInstanceOf(CallFailed);
    expect(err.message).toBe(`command ${script} exited 3: bad thing\n`);
    expect((await failure(runCommand(['capstan-no-such-program-xyz']))).message).toContain('could not start');
    expect(await failure(runCommand([]))).toBeInstanceOf(Invalid);
  });

  it('kills a command that outlives its timeout or is aborted', async () => {
    const slow = await failure(runCommand(['sleep', '30'], { timeoutMs: 50 }));
    expect(slow.message).toBe('command sleep timed out after 50 ms');
    const ctl = new AbortController();
    const running = runCommand(['sleep', '30'], { signal: ctl.signal });
    ctl.abort();
    expect((await failure(running)).message).toBe('command sleep was aborted');
  });
});
