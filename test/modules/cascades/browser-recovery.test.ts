/**
 * The session's browser survives the session moving to another worker, on two `capstan serve` processes sharing
 * PostgreSQL, Redis and NATS, the fake LLM a third process and a small site served here: a login page sets a cookie
 * and a localStorage entry, an account page shows both. After the login turns, (1) the worker is SIGKILLed while the
 * next model call is in flight, and (2) the model asks a person and the session parks; either way the run that goes
 * on starts its browser context with the checkpoint's cookies and localStorage and reopens the page at its URL, so
 * the model's next `read_text` sees the logged-in page. Without the restore it would find no page open at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { eventually } from '../../helpers/async.ts';
import { browse, haveChromium, serveSite } from '../../helpers/cascades-browser.ts';
import { FAST_CASCADES } from '../../helpers/cascades-server.ts';
import { runOn, session } from '../../helpers/cascades-sessions.ts';
import { startInstance, type Instance } from '../../helpers/distributed-instance.ts';
import { uniqueName } from '../../helpers/env.ts';
import type { JsonApi } from '../../helpers/json-api.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import type { ServerProcess } from '../../helpers/server-process.ts';

const fake = fakeLlmForFile();
const prefix = uniqueName('cascbr').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const servers: ServerProcess[] = [];
let site: ReturnType<typeof Bun.serve>;
/** Each request the site saw: its path and the `user` cookie it carried (null without). */
const seen: { path: string; user: string | null }[] = [];

function userOf(req: Request): string | null {
  const m = /(?:^|;\s*)user=([^;]*)/.exec(req.headers.get('cookie') ?? '');
  return m ? decodeURIComponent(m[1]!) : null;
}

const html = (body: string, headers: Record<string, string> = {}) => new Response(`<!doctype html>${body}`, { headers: { 'content-type': 'text/html', ...headers } });

function start(): Promise<Instance> {
  return startInstance({ databaseUrl: db.url, prefix, fakeLlmUrl: fake.baseUrl, module: 'cascades', settings: FAST_CASCADES, track: servers });
}

let a: Instance;
let b: Instance;
beforeAll(async () => {
  site = serveSite((req) => {
    const path = new URL(req.url).pathname;
    const user = userOf(req);
    seen.push({ path, user });
    if (path === '/login') return html(`<title>Login</title><script>localStorage.setItem('theme', 'dark')</script><p>logged in</p>`, { 'set-cookie': 'user=ada; Path=/; HttpOnly' });
    if (path === '/account') {
      return html(`<title>Account</title><p>${user ? `Welcome ${user}` : 'not logged in'}</p><p id="theme"></p>
<script>document.getElementById('theme').textContent = 'theme ' + (localStorage.getItem('theme') ?? 'none')</script>`);
    }
    return new Response('not found', { status: 404 });
  });
  db = await createTestDatabase('cascbr');
  a = await start();
  b = await start();
}, 180_000);
afterAll(async () => {
  for (const s of servers) await s.stop('SIGTERM');
  site?.stop(true);
  await db?.drop();
});

const CASCADE = (tools: string) => `
cascade_id: shop
model: fake/m
allow_hosts: ["127.0.0.1:${site.port}"]
phases:
  - name: browse
    instructions: "Log in and read the account page."
    tools: [${tools}]
    max_turns: 8
`;

async function requestsOf(id: string) {
  return (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
}

async function logsOf(api: JsonApi, id: string): Promise<Record<string, any>[]> {
  return (await api('GET', `/sessions/${id}/logs`)).body.items as Record<string, any>[];
}

/** The instance running the session now (its owner) and the other one. */
async function ownerAndOther(id: string): Promise<{ owner: Instance; other: Instance }> {
  const s = (await a.api('GET', `/sessions/${id}`)).body;
  const owner = s.owner === a.id ? a : s.owner === b.id ? b : undefined;
  if (!owner) throw new Error(`session ${id} is owned by ${s.owner}, neither instance`);
  return { owner, other: owner === a ? b : a };
}

/** The session's tool rows, once `n` of them are in the database (written with their turn's checkpoint). */
async function toolRows(api: JsonApi, id: string, n: number): Promise<Record<string, any>[]> {
  return eventually(`${n} tool rows of ${id}`, async () => {
    const rows = (await logsOf(api, id)).filter((l) => l.kind === 'tool');
    return rows.length >= n ? rows : undefined;
  });
}

/** What the survivor's run logged and saw after the move: the restore row, the read_text result, the site's requests. */
async function expectLoggedInAfterMove(api: JsonApi, id: string, origin: string): Promise<void> {
  const logs = await logsOf(api, id);
  const restored = logs.filter((l) => l.kind === 'browser');
  expect(restored.map((l) => [l.content.restored, l.content.cookies, l.content.origins, l.content.failed])).toEqual([[[`${origin}/account`], 1, 1, []]]);
  const tools = logs.filter((l) => l.kind === 'tool').map((l) => [l.content.name, l.content.ok, l.content.result]);
  const read = tools.find((t) => t[0] === 'browser' && String(t[2]).includes('theme'));
  expect(read?.[1]).toBe(true);
  expect(read?.[2]).toContain('Welcome ada');
  expect(read?.[2]).toContain('theme dark');
  // The account page was loaded twice, the second time by the new context reopening it, with the restored cookie.
  expect(seen.filter((s) => s.path === '/account')).toEqual([{ path: '/account', user: 'ada' }, { path: '/account', user: 'ada' }]);
  const asked = await requestsOf(id);
  expect(JSON.stringify(asked.at(-1)!.messages)).toContain('Welcome ada');
}

describe.skipIf(!haveChromium)('browser state across workers', () => {
  it('SIGKILL after the login turns: the other instance reopens the page with the cookie and localStorage, and the model reads the logged-in page', async () => {
    seen.length = 0;
    const origin = `http://127.0.0.1:${site.port}`;
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        browse({ action: 'navigate', url: `${origin}/login` }),
        browse({ action: 'navigate', url: `${origin}/account` }),
        // The third call hangs while its worker dies; the resumed run asks again and gets the read_text.
        { text: 'lost', delayMs: 60_000 },
        browse({ action: 'read_text' }),
        { text: 'read the account' },
      ],
    });
    const id = await runOn(a, CASCADE('browser'), {});
    await toolRows(a.api, id, 2);
    await eventually('the third model call in flight', async () => ((await requestsOf(id)).length === 3 ? true : undefined));
    const { owner, other } = await ownerAndOther(id);
    await owner.proc.stop('SIGKILL');
    const s = await session(other.api, id, ['completed', 'error'], 90_000);
    expect(s.status, s.error).toBe('completed');
    expect(s.outputs).toEqual({ browse: 'read the account' });
    expect(s.recoveries).toBeGreaterThanOrEqual(1);
    await expectLoggedInAfterMove(other.api, id, origin);
    const fresh = await start();
    if (owner === a) a = fresh;
    else b = fresh;
  }, 240_000); // a lease to expire and an instance to start again, on a loaded machine

  it('a question parks the session: answered through the other instance, the resumed run reopens the logged-in page', async () => {
    seen.length = 0;
    const origin = `http://127.0.0.1:${site.port}`;
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        browse({ action: 'navigate', url: `${origin}/login` }),
        browse({ action: 'navigate', url: `${origin}/account` }),
        { toolCalls: [{ name: 'ask_human', arguments: { question: 'Read the account now?' } }] },
        browse({ action: 'read_text' }),
        { text: 'read the account' },
      ],
    });
    const id = await runOn(a, CASCADE('browser, ask_human'), {});
    await session(a.api, id, ['blocked'], 60_000);
    const pending = (await b.api('GET', '/checkpoints?status=pending')).body.items as Record<string, any>[];
    const question = pending.find((q) => q.sessionId === id);
    expect(question?.prompt).toBe('Read the account now?');
    expect((await b.api('POST', `/checkpoints/${question!.id}/respond`, { text: 'yes' })).status).toBe(200);
    const s = await session(b.api, id, ['completed', 'error'], 60_000);
    expect(s.status, s.error).toBe('completed');
    await expectLoggedInAfterMove(b.api, id, origin);
  }, 120_000);
});
