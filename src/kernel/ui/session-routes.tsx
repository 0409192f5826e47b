/** The console's sign-in and sign-out: a token entered once in a form becomes an HttpOnly, SameSite=Strict cookie. */
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../http/app-env.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import type { RenderPage } from './layout.tsx';
import { LoginPage } from './login-page.tsx';

/** /login and /logout; `checkToken` says whether a presented token is one of the configured ones. */
export function sessionRoutes(checkToken: (token: string) => boolean, render: RenderPage): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/login', (c) => {
    // Already someone (a valid cookie, or auth is off): nothing to sign in to.
    if (c.get('principal')) return c.redirect('/ui', 303);
    return render(c, { title: 'Sign in' }, <LoginPage />);
  });
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (!token || !checkToken(token)) return render(c, { title: 'Sign in', status: 401 }, <LoginPage error="That token is not valid." />);
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect('/ui', 303);
  });
  app.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/ui/login', 303);
  });
  return app;
}
