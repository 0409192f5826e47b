/** The overview's inline browser script: refreshes the tables from /ui/overview.json every 5 s and shows the
 * live event stream over SSE. It builds every node with textContent, never innerHTML, so event data cannot inject markup. */
import { CONNECT_EVENTS_JS } from './live-events-script.ts';

/** Queue states in column order; shared with the server-rendered table. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/** Rows kept in the live event table; older ones are dropped. */
export const MAX_EVENT_ROWS = 200;

/** Characters of an event's JSON data shown in the table. */
const DATA_PREVIEW_CHARS = 160;

/** The script text, inlined into the page (no build step, nothing fetched from elsewhere). */
export const OVERVIEW_SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => { const n = document.createElement(tag); if (text !== undefined) n.textContent = String(text); if (cls) n.className = cls; return n; };
  const cell = (text, cls) => el('td', text, cls);
  const STATES = ${JSON.stringify(QUEUE_STATES)};
  const duration = (s) => s < 60 ? s + ' s' : s < 3600 ? Math.floor(s / 60) + ' min' : Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';

  function render(d) {
    $('ready').textContent = d.ready ? 'ready' : 'not ready';
    $('ready').className = d.ready ? 'ok' : 'bad';
    $('uptime').textContent = duration(d.process.uptimeSeconds);
    const deps = $('deps'); deps.replaceChildren();
    for (const [name, x] of Object.entries(d.dependencies)) {
      const tr = el('tr');
      tr.append(cell(name), cell(x.kind), cell(x.ok ? 'ok' : 'down', x.ok ? 'ok' : 'bad'), cell(x.latencyMs + ' ms'), cell(x.error || '', 'muted'));
      deps.append(tr);
    }
    const qs = $('queues'); qs.replaceChildren();
    const note = (text) => { const tr = el('tr'); const td = cell(text, 'muted'); td.colSpan = 6; tr.append(td); qs.append(tr); };
    if (d.queues === null) note('(the admin scope is needed to see queues)');
    else if (d.queues.length === 0) note('(no queues yet)');
    else for (const q of d.queues) {
      const tr = el('tr');
      tr.append(cell(q.name));
      if (q.error) { const td = cell(q.error, 'bad'); td.colSpan = 5; tr.append(td); }
      else tr.append(...STATES.map((s) => cell(q[s] ?? '–')));
      qs.append(tr);
    }
  }
  async function refresh() {
    try {
      const res = await fetch('/ui/overview.json', { credentials: 'same-origin', redirect: 'manual' });
      if (res.ok) render(await res.json());
    } catch {}
  }
  setInterval(refresh, 5000);

  const status = $('stream-status');
  const show = (text, cls) => { status.textContent = text; status.className = cls; };
  const connectEvents = ${CONNECT_EVENTS_JS};
  function addRow(e) {
    const data = JSON.stringify(e.data) ?? '';
    const tr = el('tr', undefined, 'event-row');
    tr.append(cell(new Date(e.time).toLocaleTimeString()), cell(e.type, 'mono'), cell(e.source, 'muted'),
      cell(data.length > ${DATA_PREVIEW_CHARS} ? data.slice(0, ${DATA_PREVIEW_CHARS}) + '…' : data, 'mono'));
    const rows = $('event-rows');
    rows.prepend(tr);
    while (rows.children.length > ${MAX_EVENT_ROWS}) rows.lastElementChild.remove();
  }
  let live;
  function connect() {
    if (live) live.close();
    const pattern = $('pattern').value.trim() || '>';
    const texts = { connecting: ['connecting…', 'muted'], open: ['connected (' + pattern + ')', 'ok'], reconnecting: ['disconnected, reconnecting…', 'bad'], closed: ['disconnected', 'bad'] };
    live = connectEvents(pattern, addRow, (s) => show(...texts[s]));
  }
  $('pattern-form').addEventListener('submit', (ev) => { ev.preventDefault(); $('event-rows').replaceChildren(); connect(); });
  connect();
})();
`;
