/** @jsxImportSource hono/jsx */
/** The web console at /ui, rendered on the server with hono/jsx and served from the binary (no build step). */
import { principalOf } from '../http/request-state.ts';
import { Hono, type MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../http/app-env.ts';
import type { MountedModule } from '../http/app.ts';
import { hasScope, SESSION_COOKIE } from '../http/auth.ts';
import { LoginLimiter } from '../http/login-limit.ts';
import { MemoryRateCounter } from '../http/rate-limit.ts';
import type { Resources } from '../resources.ts';
import { Layout, type NavItem, type RenderPage } from './layout.tsx';
import { overviewData } from './overview-data.ts';
import { OverviewPage } from './overview-page.tsx';
import { sessionRoutes } from './session-routes.tsx';

/** What the console needs. */
export interface ConsoleOptions {
  version: string;
  resources: Resources;
  modules: MountedModule[];
  /** True if `token` is one of the configured tokens; the default accepts none. */
  checkToken?: (token: string) => boolean;
  /** Failed sign-ins per client address; the default counts in this process with the default limit. */
  loginLimiter?: LoginLimiter;
}

/** Console routes, mounted at /ui. */
export function consoleRoutes(o: ConsoleOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const enabled = o.modules.filter((m) => m.enabled);
  const nav: NavItem[] = [{ href: '/ui', label: 'Overview' }, ...enabled.map((m) => ({ href: `/ui/${m.name}`, label: m.name }))];
  const render: RenderPage = (c, page, body) => {
    // Only a cookie session can be ended from the page; with auth off or a bearer header there is nothing to sign out of.
    const signedInAs = getCookie(c, SESSION_COOKIE) ? principalOf(c)?.name : undefined;
    return c.html(
      <Layout title={page.title} version={o.version} mode={o.resources.mode} nav={nav} active={page.active ?? ''} signedInAs={signedInAs}>
        {body}
      </Layout>,
      page.status ?? 200,
    );
  };

  app.route('/', sessionRoutes(o.checkToken ?? (() => false), render, o.loginLimiter ?? new LoginLimiter(new MemoryRateCounter())));

  // Everything below needs a principal: with auth on, that means a valid token (cookie or header).
  app.use('*', async (c, next) => {
    if (!principalOf(c)) return c.redirect('/ui/login', 302);
    return next();
  });

  // Queue depths follow the queue API's rule (admin only); health is public at /readyz anyway.
  app.get('/overview.json', async (c) => c.json(await overviewData(o.resources, hasScope(principalOf(c), 'admin'))));
  app.get('/', async (c) => {
    const data = await overviewData(o.resources, hasScope(principalOf(c), 'admin'));
    return render(c, { title: 'Overview', active: '/ui' }, <OverviewPage data={data} modules={enabled} />);
  });

  for (const m of enabled) {
    const base = `/${m.name}`;
    // A module's pages show what its API shows, so they need the same `<module>:read` scope.
    const readScope: MiddlewareHandler<AppEnv> = async (c, next) => {
      if (hasScope(principalOf(c), `${m.name}:read`)) return next();
      return render(c, { title: m.name, active: `/ui${base}`, status: 403 }, <Notice title={m.name} text={`This page needs the ${m.name}:read scope.`} />);
    };
    app.use(`${base}/*`, readScope); // also matches `base` itself
    // A module's pages get the kernel's frame without knowing the version, the other modules or the session.
    app.use(`${base}/*`, async (c, next) => {
      c.set('renderPage', (page, body) => render(c, { ...page, active: `/ui${base}` }, body));
      return next();
    });
    if (m.ui) app.route(base, m.ui);
    else app.get(base, (c) => render(c, { title: m.name, active: `/ui${base}` }, <Notice title={m.name} detail={m.description} text={`This module has no console page yet; its API is under /api/v1/${m.name}.`} />));
  }
  return app;
}

/** A one-section page with a heading and a line of text. */
function Notice(props: { title: string; text: string; detail?: string }) {
  return (
    <main>
      <section>
        <h2>{props.title}</h2>
        {props.detail ? <p class="muted">{props.detail}</p> : null}
        <p>{props.text}</p>
      </section>
    </main>
  );
}
