/** The console's pages rendered in-process over fake resources: overview content, escaping, JSON refresh, login, scopes. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/kernel/http/app-env.ts';
import type { MountedModule } from '../../src/kernel/http/app.ts';
import { authenticate, hashToken, SESSION_COOKIE, type TokenRecord } from '../../src/kernel/http/auth.ts';
import type { QueueCounts } from '../../src/kernel/queue/port.ts';
import type { Resources } from '../../src/kernel/resources.ts';
import { consoleRoutes, type ConsoleOptions } from '../../src/kernel/ui/console.tsx';
import type { OverviewData } from '../../src/kernel/ui/overview-data.ts';

const EVIL = '<img src=x onerror=alert(1)>';

/** Resources whose pings and queue counts are whatever the test says; only what the console reads. */
function fakeResources(o: { queues?: Record<string, QueueCounts>; kvDown?: string } = {}): Resources {
  const ok = async () => {};
  return {
    mode: 'embedded',
    instanceId: 'inst-1',
    db: { kind: 'pglite', ping: ok },
    bus: { ping: ok },
    kv: {
      ping: async () => {
        if (o.kvDown) throw new Error(o.kvDown);
      },
    },
    queue: {
      ping: ok,
      knownQueues: () => Object.keys(o.queues ?? {}),
      counts: async (q: string) => o.queues![q]!,
    },
  } as unknown as Resources;
}

const modules: MountedModule[] = [
  { name: 'workflow', description: 'durable workflows', enabled: true },
  { name: 'breeder', description: 'live optimization', enabled: false },
  { name: 'mesh', description: 'failover mesh', enabled: true, ui: new Hono<AppEnv>().get('/', (c) => c.text('mesh page')) },
];

const tokens: TokenRecord[] = [
  { name: 'ops', sha256: hashToken('admin-token'), scopes: ['admin'] },
  { name: 'viewer', sha256: hashToken('viewer-token'), scopes: ['mesh:read'] },
];

/** The console behind the real authenticate middleware, as createApp mounts it. */
function consoleApp(opts: { auth: boolean; resources?: Resources; checkToken?: ConsoleOptions['checkToken'] }) {
  const app = new Hono<AppEnv>();
  app.use(authenticate(opts.auth, tokens));
  app.route('/ui', consoleRoutes({ version: '9.8.7', resources: opts.resources ?? fakeResources(), modules, checkToken: opts.checkToken }));
  return app;
}

const checkToken = (t: string) => tokens.some((x) => x.sha256 === hashToken(t));
const login = (app: Hono<AppEnv>, token: string) =>
  app.request('/ui/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
const withCookie = (token: string) => ({ headers: { cookie: `${SESSION_COOKIE}=${token}` } });

describe('console pages (auth off)', () => {
  it('renders the overview: header, nav of enabled modules, dependencies, queues, stream panel', async () => {
    const app = consoleApp({ auth: false, resources: fakeResources({ queues: { 'jobs-a': { waiting: 3, active: 1, delayed: 0, failed: 2, completed: 7 } } }) });
    const res = await app.request('/ui');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('v9.8.7 · embedded mode');
    expect(html).toContain('href="/ui/workflow"');
    expect(html).toContain('href="/ui/mesh"');
    expect(html).not.toContain('href="/ui/breeder"');
    for (const dep of ['database', 'queue', 'bus', 'kv']) expect(html).toMatch(new RegExp(`<td>${dep}</td>`));
    expect(html).toContain('<td>pglite</td>');
    expect(html).toMatch(/<td>jobs-a<\/td><td>3<\/td><td>1<\/td><td>0<\/td><td>2<\/td><td>7<\/td>/);
    expect(html).toContain('id="event-rows"');
    expect(html).toContain('value="&gt;"');
    expect(html).toContain("new EventSource('/api/v1/events?pattern='");
    expect(html).not.toContain('innerHTML');
    expect(html).not.toMatch(/<(link|script)[^>]+(src|href)=/);
    // No sign-out button when there is no session to end.
    expect(html).not.toContain('/ui/logout');
  });

  it('says when there are no queues yet, and escapes a failing dependency error', async () => {
    const app = consoleApp({ auth: false, resources: fakeResources({ kvDown: EVIL }) });
    const html = await (await app.request('/ui')).text();
    expect(html).toContain('(no queues yet)');
    expect(html).toContain('not ready');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain(EVIL);
  });

  it('serves the same data as JSON for the 5 s refresh', async () => {
    const app = consoleApp({ auth: false, resources: fakeResources({ queues: { q1: { waiting: 1, active: 0, delayed: 0, failed: 0, completed: 0 } }, kvDown: 'gone' }) });
    const res = await app.request('/ui/overview.json');
    expect(res.status).toBe(200);
    const data = (await res.json()) as OverviewData;
    expect(data.ready).toBe(false);
    expect(data.process).toMatchObject({ up: true, instanceId: 'inst-1', mode: 'embedded' });
    expect(Object.keys(data.dependencies).sort()).toEqual(['bus', 'database', 'kv', 'queue']);
    expect(data.dependencies.kv).toMatchObject({ ok: false, kind: 'memory', error: 'gone' });
    expect(data.queues).toEqual([{ name: 'q1', waiting: 1, active: 0, delayed: 0, failed: 0, completed: 0 }]);
  });

  it('mounts a module ui router, shows a placeholder for one without, and nothing for a disabled one', async () => {
    const app = consoleApp({ auth: false });
    expect(await (await app.request('/ui/mesh')).text()).toBe('mesh page');
    const wf = await app.request('/ui/workflow');
    expect(wf.status).toBe(200);
    expect(await wf.text()).toContain('has no console page yet');
    expect((await app.request('/ui/breeder')).status).toBe(404);
  });

  it('needs no login: the login page sends you to the overview', async () => {
    const res = await consoleApp({ auth: false }).request('/ui/login');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui');
  });
});

describe('console pages (auth on)', () => {
  it('redirects pages and the JSON to the login form when no token is presented', async () => {
    const app = consoleApp({ auth: true, checkToken });
    for (const path of ['/ui', '/ui/overview.json', '/ui/workflow', '/ui/mesh']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location')).toBe('/ui/login');
    }
    const form = await app.request('/ui/login');
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('<form method="post" action="/ui/login">');
    expect(html).toContain('name="token"');
  });

  it('refuses a wrong token with 401 and the form again, and accepts nothing without checkToken', async () => {
    const wrong = await login(consoleApp({ auth: true, checkToken }), 'nope');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const html = await wrong.text();
    expect(html).toContain('That token is not valid.');
    expect(html).toContain('name="token"');
    expect((await login(consoleApp({ auth: true }), 'admin-token')).status).toBe(401);
  });

  it('sets an HttpOnly SameSite=Strict cookie for a right token, which opens the overview; logout clears it', async () => {
    const app = consoleApp({ auth: true, checkToken });
    const ok = await login(app, 'admin-token');
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/ui');
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toContain(`${SESSION_COOKIE}=admin-token`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');

    const page = await app.request('/ui', withCookie('admin-token'));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('id="deps"');
    expect(html).toContain('action="/ui/logout"');
    expect(html).toContain('>ops</span>');

    const out = await app.request('/ui/logout', { method: 'POST', ...withCookie('admin-token') });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/ui/login');
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`));
  });

  it('treats a stale cookie as no session', async () => {
    const res = await consoleApp({ auth: true, checkToken }).request('/ui', withCookie('revoked'));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/ui/login');
  });

  it('hides queues and module pages from a token without the matching scopes', async () => {
    const app = consoleApp({ auth: true, checkToken, resources: fakeResources({ queues: { secret: { waiting: 1, active: 0, delayed: 0, failed: 0, completed: 0 } } }) });
    const data = (await (await app.request('/ui/overview.json', withCookie('viewer-token'))).json()) as OverviewData;
    expect(data.queues).toBeNull();
    const html = await (await app.request('/ui', withCookie('viewer-token'))).text();
    expect(html).toContain('(the admin scope is needed to see queues)');
    expect(html).not.toContain('secret');
    const wf = await app.request('/ui/workflow', withCookie('viewer-token'));
    expect(wf.status).toBe(403);
    expect(await wf.text()).toContain('workflow:read');
    expect(await (await app.request('/ui/mesh', withCookie('viewer-token'))).text()).toBe('mesh page');
  });
});
