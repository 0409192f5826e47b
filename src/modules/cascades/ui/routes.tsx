/** @jsxImportSource hono/jsx */
/**
 * /ui/cascades: sessions (filter by status), pending human checkpoints with a form to answer each, and one session's
 * view: its phase timeline, soundings tree with the winner and each attempt's tool calls, costs by model and the unified log. Mounted by the console.
 */
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { CapstanError, NotFound, type AppEnv } from '../../../kernel/index.ts';
import { SESSION_STATUSES, type SessionStatus } from '../model/session.ts';
import type { CascadeService } from '../service.ts';
import type { LogRow } from '../store/index.ts';

const STATUS_CLASS: Partial<Record<SessionStatus, string>> = { completed: 'ok', error: 'bad', cancelled: 'bad' };

/** A value shortened for a table cell. */
function brief(v: unknown, max = 160): string {
  const t = typeof v === 'string' ? v : JSON.stringify(v ?? null);
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Builds the /ui/cascades router. */
export function cascadesUi(svc: CascadeService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const raw = c.req.query('status');
    // An unknown status in the address shows every session rather than an error page.
    const status = SESSION_STATUSES.find((s) => s === raw);
    const [sessions, pending] = await Promise.all([svc.store.listSessions({ status, limit: 200 }), svc.store.listHumanCheckpoints('pending')]);
    return page(
      c,
      'Cascades',
      <main>
        <section class="wide">
          <h2>Waiting for a person ({pending.length})</h2>
          <table id="checkpoints">
            <thead>
              <tr><th>session</th><th>phase</th><th>question</th><th>answer</th></tr>
            </thead>
            <tbody>
              {pending.map((h) => (
                <tr>
                  <td class="mono"><a href={`/ui/cascades/sessions/${encodeURIComponent(h.sessionId)}`}>{h.sessionId}</a></td>
                  <td>{h.phase}</td>
                  <td>{h.prompt}</td>
                  <td>
                    <form method="post" action={`/ui/cascades/checkpoints/${encodeURIComponent(h.id)}/respond`}>
                      <input name="text" required aria-label={`answer to ${h.prompt}`} /> <button type="submit">Answer</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Sessions{status ? ` (${status})` : ''}</h2>
          <p>
            {['all', ...SESSION_STATUSES].map((s) => (
              <>
                <a href={s === 'all' ? '/ui/cascades' : `/ui/cascades?status=${s}`}>{s}</a>{' '}
              </>
            ))}
          </p>
          <table id="sessions">
            <thead>
              <tr><th>session</th><th>cascade</th><th>status</th><th>phase</th><th>cost</th><th>tokens</th><th>created</th></tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr>
                  <td class="mono"><a href={`/ui/cascades/sessions/${encodeURIComponent(s.id)}`}>{s.id}</a></td>
                  <td>{s.cascadeId}</td>
                  <td class={STATUS_CLASS[s.status] ?? ''}>{s.status}</td>
                  <td>{s.currentPhase ?? ''}</td>
                  <td class="mono">{s.cost.toFixed(6)}</td>
                  <td class="mono">{s.tokensIn + s.tokensOut}</td>
                  <td class="mono">{s.createdAt}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </main>,
    );
  });

  app.get('/sessions/:id', async (c) => {
    const id = c.req.param('id');
    let s;
    try {
      s = await svc.store.getSession(id);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      return page(c, 'Session not found', <main><p>No session <code>{id}</code>. <a href="/ui/cascades">All sessions</a></p></main>, 404);
    }
    const [logs, costs, children] = await Promise.all([svc.store.logs(id, 0, 1_000), svc.store.costs(id), svc.store.listSessions({ parent: id, limit: 200 })]);
    const done = new Set(s.completed);
    return page(
      c,
      `Session ${id}`,
      <main>
        <section class="wide">
          <h2>
            {s.cascadeId} · <span class={STATUS_CLASS[s.status] ?? ''}>{s.status}</span>
          </h2>
          <p class="mono">session {s.id} · cost {s.cost.toFixed(6)} · tokens {s.tokensIn} in / {s.tokensOut} out · recoveries {s.recoveries}{s.error ? ` · ${s.error}` : ''}</p>
          {s.parentSessionId ? (
            <p id="parent">
              {s.detached ? 'async child' : 'child'} of <a href={`/ui/cascades/sessions/${encodeURIComponent(s.parentSessionId)}`}>{s.parentSessionId}</a> (depth {s.depth})
            </p>
          ) : (
            ''
          )}
          <h3>Phases</h3>
          <ol id="timeline">
            {s.spec.phases.map((p) => {
              const state = done.has(p.name) ? 'done' : p.name === s.currentPhase && s.status !== 'completed' ? s.status : 'not run';
              return (
                <li>
                  <b>{p.name}</b> <span class={state === 'done' ? 'ok' : state === 'error' ? 'bad' : ''}>{state}</span>
                  {done.has(p.name) ? <div class="mono">{brief(s.outputs[p.name], 300)}</div> : ''}
                  {soundingsTree(logs, p.name)}
                </li>
              );
            })}
          </ol>
          {children.length > 0 ? (
            <>
              <h3>Child sessions ({children.length})</h3>
              <ul id="children">
                {children.map((k) => (
                  <li>
                    <a href={`/ui/cascades/sessions/${encodeURIComponent(k.id)}`}>{k.id}</a> {k.cascadeId} <span class={STATUS_CLASS[k.status] ?? ''}>{k.status}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            ''
          )}
          <h3>Costs</h3>
          <table id="costs">
            <thead>
              <tr><th>model</th><th>calls</th><th>tokens in</th><th>tokens out</th><th>cost</th></tr>
            </thead>
            <tbody>
              {costs.map((k) => (
                <tr><td>{k.model}</td><td>{k.calls}</td><td>{k.tokensIn}</td><td>{k.tokensOut}</td><td class="mono">{k.cost.toFixed(6)}</td></tr>
              ))}
            </tbody>
          </table>
          <h3>Log</h3>
          <pre id="log">{logs.map((l) => `#${l.id} ${l.phase ?? '-'} turn ${l.turn ?? '-'} ${l.kind}${l.model ? ` ${l.model}` : ''} ${brief(l.content, 300)}`).join('\n')}</pre>
        </section>
      </main>,
    );
  });

  // A form post from the list page: SameSite=Strict session cookies keep other sites from sending it.
  app.post('/checkpoints/:id/respond', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const text = typeof form.text === 'string' ? form.text.trim() : '';
    if (!text) return page(c, 'Answer needed', <main><p>The answer is empty. <a href="/ui/cascades">Back</a></p></main>, 400);
    try {
      const cp = await svc.respond(id, text);
      return c.redirect(`/ui/cascades/sessions/${encodeURIComponent(cp.sessionId)}`, 303);
    } catch (err) {
      if (!(err instanceof CapstanError) || (err.status !== 404 && err.status !== 409)) throw err;
      return page(c, 'Not answered', <main><p>{err.message}. <a href="/ui/cascades">Back</a></p></main>, err.status === 404 ? 404 : 409);
    }
  });
  return app;
}

/**
 * The tool calls each attempt made, by the attempt's log row id. A tool row belongs to the attempt row with the same
 * phase, round (turn) and index that follows it in the log: an attempt is logged after its tool calls, and a pass run
 * again by a retry ward or loop_until logs the same round and index again, so the log order tells the passes apart.
 */
function toolCallsByAttempt(logs: LogRow[], phase: string): Map<number, LogRow[]> {
  const byAttempt = new Map<number, LogRow[]>();
  const open = new Map<string, LogRow[]>();
  for (const l of [...logs].sort((x, y) => x.id - y.id)) {
    if (l.phase !== phase || l.soundingIndex === undefined) continue;
    const key = `${l.turn ?? 1}:${l.soundingIndex}`;
    if (l.kind === 'tool') {
      const calls = open.get(key);
      if (calls) calls.push(l);
      else open.set(key, [l]);
    }
    else if (l.kind === 'sounding') {
      byAttempt.set(l.id, open.get(key) ?? []);
      open.delete(key);
    }
  }
  return byAttempt;
}

/** One tool call of an attempt: name, arguments and what it returned. */
function toolCallItem(t: LogRow): Child {
  const c = (t.content ?? {}) as { name?: unknown; arguments?: unknown; ok?: unknown; result?: unknown };
  return (
    <li class={c.ok === false ? 'bad' : ''} data-tool={String(c.name ?? '')}>
      <span class="mono">{String(c.name ?? '?')}({brief(c.arguments ?? {}, 200)})</span> → <span class="mono">{brief(c.result, 200)}</span>
    </li>
  );
}

/** The attempts of a soundings phase with their index, model, tool calls and output; the winner is marked. */
function soundingsTree(logs: LogRow[], phase: string): Child {
  // The log's turn is the round (1 = the first attempts, 2.. = reforge rounds).
  const attempts = logs.filter((l) => l.phase === phase && l.kind === 'sounding').sort((a, b) => (a.turn ?? 0) - (b.turn ?? 0) || (a.soundingIndex ?? 0) - (b.soundingIndex ?? 0) || a.id - b.id);
  if (attempts.length === 0) return '';
  const tools = toolCallsByAttempt(logs, phase);
  const reasons = logs.filter((l) => l.phase === phase && l.kind === 'evaluator').map((l) => (l.content as { reason?: unknown } | undefined)?.reason).filter((r): r is string => typeof r === 'string' && r !== '');
  return (
    <ul class="soundings">
      {attempts.map((a) => {
        const content = a.content as { output?: unknown; error?: unknown } | undefined;
        const calls = tools.get(a.id) ?? [];
        return (
          <li class={a.winner ? 'ok' : ''} data-sounding={String(a.soundingIndex)} data-round={String(a.turn ?? 1)}>
            {(a.turn ?? 1) > 1 ? `reforge round ${(a.turn ?? 1) - 1} · ` : ''}sounding {a.soundingIndex}{a.model ? ` (${a.model})` : ''}{a.winner ? ' ★ winner' : ''}: <span class="mono">{content?.error !== undefined ? `error: ${brief(content.error)}` : brief(content?.output)}</span>
            {calls.length > 0 ? (
              <ol class="tool-calls" aria-label={`tool calls of sounding ${a.soundingIndex}`}>
                {calls.map(toolCallItem)}
              </ol>
            ) : (
              ''
            )}
          </li>
        );
      })}
      {reasons.map((r) => (
        <li>evaluator: {r}</li>
      ))}
    </ul>
  );
}

/** Renders through the console's frame (set by the kernel on every module page). */
function page(c: Context<AppEnv>, title: string, body: Child, status: 200 | 400 | 404 | 409 = 200) {
  const render = c.get('renderPage');
  if (!render) throw new Error('cascades pages must be mounted by the kernel console (no renderPage on the request)');
  return render({ title, status }, body);
}
