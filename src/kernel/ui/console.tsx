/** The web console at /ui, rendered on the server with hono/jsx and served from the binary (no build step). */
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../http/app-env.ts';
import type { MountedModule } from '../http/app.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import type { Resources } from '../resources.ts';
import { Layout, type NavItem } from './layout.tsx';
import { LoginPage } from './login-page.tsx';
import { overviewData } from './overview-data.ts';
import { OverviewPage } from './overview-page.tsx';

/** What the console needs. */
export interface ConsoleOptions {
  version: string;
  resources: Resources;
  modules: MountedModule[];
  /** True if `token` is one of the configured tokens; the default accepts none. */
  checkToken?: (token: string) => boolean;
}

/** Console routes, mounted at /ui. */
export function consoleRoutes(o: ConsoleOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const enabled = o.modules.filter((m) => m.enabled);
  const nav: NavItem[] = [{ href: '/ui', label: 'Overview' }, ...enabled.map((m) => ({ href: `/ui/${m.name}`, label: m.name }))];
  const frame = (title: string, active: string) => ({ title, version: o.version, mode: o.resources.mode, nav, active });

  app.get('/login', (c) => c.html(<Layout {...frame('Sign in', '')}>{<LoginPage />}</Layout>));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (!token || !(o.checkToken?.(token) ?? false)) {
      return c.html(<Layout {...frame('Sign in', '')}>{<LoginPage error="That token is not valid." />}</Layout>, 401);
    }
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect('/ui', 303);
  });
  app.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/ui/login', 303);
  });

  // Everything below needs a principal: with auth on, that means a valid token (header or cookie).
  app.use('*', async (c, next) => {
    if (!c.get('principal')) return c.redirect('/ui/login', 302);
    return next();
  });

  app.get('/overview.json', async (c) => c.json(await overviewData(o.resources)));
  app.get('/', async (c) => {
    const data = await overviewData(o.resources);
    return c.html(
      <Layout {...frame('Overview', '/ui')}>
        <OverviewPage data={data} modules={enabled} />
      </Layout>,
    );
  });
  for (const m of enabled) {
    if (m.ui) app.route(`/${m.name}`, m.ui);
    else
      app.get(`/${m.name}`, (c) =>
        c.html(
          <Layout {...frame(m.name, `/ui/${m.name}`)}>
            <main>
              <section>
                <h2>{m.name}</h2>
                <p class="muted">{m.description}</p>
                <p>This module has no console page yet; its API is under /api/v1/{m.name}.</p>
              </section>
            </main>
          </Layout>,
        ),
      );
  }
  return app;
}
