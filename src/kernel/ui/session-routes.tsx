/** @jsxImportSource hono/jsx */
/** The console's sign-in and sign-out: a token entered once in a form becomes an HttpOnly, SameSite=Strict cookie. */
import { principalOf } from '../http/request-state.ts';
import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../http/app-env.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import { clientAddress } from '../http/client-address.ts';
import type { LoginLimiter } from '../http/login-limit.ts';
import { problemResponse } from '../http/problem.ts';
import type { RenderPage } from './layout.tsx';
import { LoginPage } from './login-page.tsx';

/** /login and /logout; `checkToken` says whether a presented token is one of the configured ones. */
export function sessionRoutes(checkToken: (token: string) => boolean, render: RenderPage, limiter: LoginLimiter): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/login', (c) => {
    // Already someone (a valid cookie, or auth is off): nothing to sign in to.
    if (principalOf(c)) return c.redirect('/ui', 303);
    return render(c, { title: 'Sign in' }, <LoginPage />);
  });
  app.post('/login', async (c) => {
    // The /api rate limit is per token, and a sign-in has none yet: failures are counted per client address.
    const from = clientAddress(c);
    const wait = await limiter.blockedFor(from);
    if (wait) return tooManyFailures(c, render, wait);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (!token || !checkToken(token)) {
      const over = await limiter.failed(from);
      if (over) return tooManyFailures(c, render, over);
      if (wantsJson(c)) return problemResponse(c, 401, 'Unauthorized', 'that token is not valid', { errors: [{ path: 'token', message: token ? 'not a valid token' : 'required' }] });
      return render(c, { title: 'Sign in', status: 401 }, <LoginPage error="That token is not valid." />);
    }
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect('/ui', 303);
  });
  app.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/ui/login', 303);
  });
  return app;
}

/** 429 with Retry-After: the form again with a readable line, or the API's problem+json for a client asking for JSON. */
/** A client that asks for JSON and not for HTML (a script, not the browser form). */
function wantsJson(c: Context<AppEnv>): boolean {
  const accept = c.req.header('accept') ?? '';
  return /json/.test(accept) && !/text\/html/.test(accept);
}

function tooManyFailures(c: Context<AppEnv>, render: RenderPage, seconds: number) {
  if (wantsJson(c)) {
    return problemResponse(c, 429, 'RateLimited', `too many failed sign-in attempts from this address; retry after ${seconds}s`, { retryAfterSeconds: seconds });
  }
  c.header('Retry-After', String(seconds));
  const wait = seconds < 60 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${Math.ceil(seconds / 60)} minutes`;
  return render(c, { title: 'Sign in', status: 429 }, <LoginPage error={`Too many failed sign-in attempts from your address. Try again in ${wait}.`} />);
}
