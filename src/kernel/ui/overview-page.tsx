/** The overview page: health, dependencies, queue depths, enabled modules and a live event stream. */
import type { OverviewData } from './overview-data.ts';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/** Dependency rows; the same markup is rebuilt client-side on refresh. */
function DependencyRows(props: { data: OverviewData }) {
  return (
    <>
      {Object.entries(props.data.dependencies).map(([name, d]) => (
        <tr>
          <td>{name}</td>
          <td>{d.kind}</td>
          <td class={d.ok ? 'ok' : 'bad'}>{d.ok ? 'ok' : 'down'}</td>
          <td>{d.latencyMs} ms</td>
          <td class="muted">{d.error ?? ''}</td>
        </tr>
      ))}
    </>
  );
}

function QueueRows(props: { data: OverviewData }) {
  if (props.data.queues.length === 0) {
    return (
      <tr>
        <td colspan={6} class="muted">
          (no queues yet)
        </td>
      </tr>
    );
  }
  return (
    <>
      {props.data.queues.map((q) => (
        <tr>
          <td>{q.name}</td>
          {QUEUE_STATES.map((s) => (
            <td>{q[s] ?? '–'}</td>
          ))}
        </tr>
      ))}
    </>
  );
}

/** The client script: refreshes tables from /ui/overview.json and streams events over SSE. Builds DOM with textContent only. */
const SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id);
  const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; };
  const STATES = ${JSON.stringify(QUEUE_STATES)};
  async function refresh() {
    try {
      const res = await fetch('/ui/overview.json', { credentials: 'same-origin' });
      if (!res.ok) return;
      const d = await res.json();
      $('ready').textContent = d.ready ? 'ready' : 'not ready';
      $('ready').className = d.ready ? 'ok' : 'bad';
      const deps = $('deps'); deps.replaceChildren();
      for (const [name, x] of Object.entries(d.dependencies)) {
        const tr = document.createElement('tr');
        tr.append(cell(name), cell(x.kind), cell(x.ok ? 'ok' : 'down', x.ok ? 'ok' : 'bad'), cell(x.latencyMs + ' ms'), cell(x.error || '', 'muted'));
        deps.append(tr);
      }
      const qs = $('queues'); qs.replaceChildren();
      if (d.queues.length === 0) { const tr = document.createElement('tr'); const td = cell('(no queues yet)', 'muted'); td.colSpan = 6; tr.append(td); qs.append(tr); }
      for (const q of d.queues) { const tr = document.createElement('tr'); tr.append(cell(q.name), ...STATES.map((s) => cell(q[s] ?? '–'))); qs.append(tr); }
    } catch {}
  }
  setInterval(refresh, 5000);

  let source;
  function connect() {
    if (source) source.close();
    const pattern = $('pattern').value.trim() || '>';
    const status = $('stream-status');
    status.textContent = 'connecting…'; status.className = 'muted';
    source = new EventSource('/api/v1/events?pattern=' + encodeURIComponent(pattern));
    source.onopen = () => { status.textContent = 'connected (' + pattern + ')'; status.className = 'ok'; };
    source.onerror = () => { status.textContent = 'disconnected, retrying'; status.className = 'bad'; };
    const onEvent = (m) => {
      let e; try { e = JSON.parse(m.data); } catch { return; }
      const tr = document.createElement('tr');
      tr.className = 'event-row';
      const data = JSON.stringify(e.data);
      tr.append(cell(new Date(e.time).toLocaleTimeString()), cell(e.type, 'mono event-type'), cell(e.source, 'muted'), cell(data.length > 160 ? data.slice(0, 160) + '…' : data, 'mono'));
      const body = $('event-rows');
      body.prepend(tr);
      while (body.children.length > 200) body.lastElementChild.remove();
    };
    source.addEventListener('message', onEvent);
  }
  $('pattern-form').addEventListener('submit', (ev) => { ev.preventDefault(); $('event-rows').replaceChildren(); connect(); });
  connect();
})();
`;

/** Renders the overview page body. */
export function OverviewPage(props: { data: OverviewData; modules: { name: string; description: string }[] }) {
  return (
    <main>
      <section>
        <h2>
          Health: <span id="ready" class={props.data.ready ? 'ok' : 'bad'}>{props.data.ready ? 'ready' : 'not ready'}</span>
        </h2>
        <table>
          <thead>
            <tr>
              <th>dependency</th>
              <th>kind</th>
              <th>state</th>
              <th>latency</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody id="deps">
            <DependencyRows data={props.data} />
          </tbody>
        </table>
      </section>
      <section>
        <h2>Queues</h2>
        <table>
          <thead>
            <tr>
              <th>queue</th>
              {QUEUE_STATES.map((s) => (
                <th>{s}</th>
              ))}
            </tr>
          </thead>
          <tbody id="queues">
            <QueueRows data={props.data} />
          </tbody>
        </table>
      </section>
      <section>
        <h2>Modules</h2>
        {props.modules.length === 0 ? (
          <p class="muted">No module is enabled.</p>
        ) : (
          <table>
            <tbody>
              {props.modules.map((m) => (
                <tr>
                  <td>
                    <a href={`/ui/${m.name}`}>{m.name}</a>
                  </td>
                  <td class="muted">{m.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="wide">
        <h2>
          Live events <span id="stream-status" class="muted"></span>
        </h2>
        <form id="pattern-form">
          <label>
            pattern <input id="pattern" name="pattern" value=">" size={30} />
          </label>{' '}
          <button type="submit">Watch</button> <span class="muted">* matches one token, &gt; the rest</span>
        </form>
        <div id="events">
          <table>
            <thead>
              <tr>
                <th>time</th>
                <th>type</th>
                <th>source</th>
                <th>data</th>
              </tr>
            </thead>
            <tbody id="event-rows"></tbody>
          </table>
        </div>
      </section>
      <script dangerouslySetInnerHTML={{ __html: SCRIPT }} />
    </main>
  );
}
