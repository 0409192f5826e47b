/** @jsxImportSource hono/jsx */
/** The console's page frame: header, navigation over enabled modules, inline styles (no external assets). */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../http/app-env.ts';

/** A navigation entry. */
export interface NavItem {
  href: string;
  label: string;
}

const STYLE = `
:root { --fg:#1d2433; --muted:#5b6578; --line:#dde2ea; --bg:#f6f8fb; --ok:#1a7f4b; --bad:#b42318; --accent:#2554c7; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:16px; padding:10px 20px; background:#111827; color:#fff; }
header .brand { font-weight:700; letter-spacing:.5px; }
header .meta { color:#cbd5e1; font-size:12px; margin-left:auto; }
header .signout { margin:0; display:flex; align-items:center; gap:8px; }
header .signout button { padding:3px 8px; font-size:12px; background:transparent; border-color:#475569; }
nav { display:flex; gap:4px; padding:6px 20px; background:#fff; border-bottom:1px solid var(--line); }
nav a { padding:6px 10px; border-radius:6px; color:var(--fg); text-decoration:none; }
nav a.active, nav a:hover { background:#e8eefc; color:var(--accent); }
main { padding:20px; display:grid; gap:16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
section.wide { grid-column: 1 / -1; }
h2 { margin:0 0 10px; font-size:15px; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:baseline; }
th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; }
.ok { color:var(--ok); font-weight:600; } .bad { color:var(--bad); font-weight:600; }
.muted { color:var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
input, button { font:inherit; padding:6px 10px; border:1px solid var(--line); border-radius:6px; }
button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
#events { max-height:420px; overflow:auto; }
#events td { white-space:nowrap; }
#events td:last-child { white-space:normal; word-break:break-all; width:100%; }
.error { color:var(--bad); }
`;

/** Wraps a page body in the console frame. */
export function Layout(props: { title: string; version: string; mode: string; nav: NavItem[]; active: string; signedInAs?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Capstan</title>
        <style dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <header>
          <span class="brand">CAPSTAN</span>
          <span>{props.title}</span>
          <span class="meta">
            v{props.version} · {props.mode} mode
          </span>
          {props.signedInAs !== undefined ? (
            <form method="post" action="/ui/logout" class="signout">
              <span class="meta">{props.signedInAs}</span> <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <nav>
          {props.nav.map((n) => (
            <a href={n.href} class={n.href === props.active ? 'active' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        {props.children}
      </body>
    </html>
  );
}

/** Renders `body` in the console frame as the response; built once per console by consoleRoutes. */
export type RenderPage = (c: Context<AppEnv>, page: { title: string; active?: string; status?: ContentfulStatusCode }, body: Child) => Response | Promise<Response>;
