/** @jsxImportSource hono/jsx */
/** The console's login form: a bearer token entered once becomes an HttpOnly cookie. */

/** Renders the login form, with an error line after a failed attempt. */
export function LoginPage(props: { error?: string }) {
  return (
    <main>
      <section>
        <h2>Sign in</h2>
        <p class="muted">This server requires a token. Enter one of the tokens configured under auth.tokens.</p>
        {props.error ? <p class="error" id="login-error">{props.error}</p> : null}
        <form method="post" action="/ui/login">
          <input type="password" name="token" placeholder="token" autocomplete="off" size={40} autofocus />{' '}
          <button type="submit">Sign in</button>
        </form>
      </section>
    </main>
  );
}
