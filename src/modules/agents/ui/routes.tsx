/** @jsxImportSource hono/jsx */
/** /ui/agents: agents and swarms with state and cost, kept live from the event stream; one agent's live log and diff. Mounted by the kernel console. */
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { NotFound, type AppEnv } from '../../../kernel/index.ts';
import { TERMINAL } from '../model/agent.ts';
import type { AgentService } from '../service.ts';
import { AGENT_SCRIPT, LIST_SCRIPT } from './live-script.ts';
import type { SwarmStore } from '../store/index.ts';

/** Builds the /ui/agents router. */
export function agentsUi(svc: AgentService, swarms: SwarmStore): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const [agents, all] = await Promise.all([svc.store.list({ limit: 200 }), swarms.list(50)]);
    return page(
      c,
      'Agents',
      <main>
        <section class="wide">
          <h2>Agents</h2>
          <table id="agents">
            <thead>
              <tr><th>id</th><th>status</th><th>turn</th><th>cost</th><th>branch</th><th>task</th></tr>
            </thead>
            <tbody>
              {agents.map((a) => (
                <tr data-agent={a.id}>
                  <td><a href={`/ui/agents/${encodeURIComponent(a.id)}`}>{a.id}</a></td>
                  <td data-field="status" class={a.status === 'completed' ? 'ok' : a.status === 'failed' || a.status === 'killed' ? 'bad' : ''}>{a.status}</td>
                  <td data-field="turn">{a.turn}</td>
                  <td class="mono">{a.cost.toFixed(6)}</td>
                  <td class="mono">{a.branch}</td>
                  <td>{a.spec.task.slice(0, 80)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Swarms</h2>
          <table id="swarms">
            <thead>
              <tr><th>id</th><th>name</th><th>strategy</th><th>status</th></tr>
            </thead>
            <tbody>
              {all.map((s) => (
                <tr><td class="mono">{s.id}</td><td>{s.name}</td><td>{s.strategy}</td><td>{s.status}</td></tr>
              ))}
            </tbody>
          </table>
        </section>
        <script dangerouslySetInnerHTML={{ __html: LIST_SCRIPT }} />
      </main>,
    );
  });
  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    let agent;
    try {
      agent = await svc.store.get(id);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      return page(c, 'Agent not found', <main><p>No agent <code>{id}</code>. <a href="/ui/agents">All agents</a></p></main>, 404);
    }
    const [logs, diff] = await Promise.all([svc.store.logs(id, 0, 1_000), svc.diff(id).catch((err: Error) => `diff unavailable: ${err.message}`)]);
    return page(
      c,
      `Agent ${id}`,
      <main>
        <section class="wide">
          <h2>Agent {id}: {agent.status}</h2>
          <p>{agent.spec.task}</p>
          <p class="mono">branch {agent.branch} · turn {agent.turn} · cost {agent.cost.toFixed(6)} · {agent.result ?? agent.error ?? ''}</p>
          <h3>Log</h3>
          <pre id="log" data-agent={id} data-after={String(logs.at(-1)?.id ?? 0)} data-ended={String(TERMINAL.has(agent.status))}>{logs.map((l) => `[turn ${l.turn}] ${l.kind} ${JSON.stringify(l.content).slice(0, 300)}`).join('\n')}</pre>
          <h3>Diff</h3>
          <pre id="diff">{diff}</pre>
        </section>
        <script dangerouslySetInnerHTML={{ __html: AGENT_SCRIPT }} />
      </main>,
    );
  });
  return app;
}

/** Renders through the console's frame (set by the kernel on every module page). */
function page(c: Context<AppEnv>, title: string, body: Child, status: 200 | 404 = 200) {
  const render = c.get('renderPage');
  if (!render) throw new Error('agents pages must be mounted by the kernel console (no renderPage on the request)');
  return render({ title, status }, body);
}
