/** The runs page's inline script: listens to `workflow.run.>` over SSE and, at most once a second, reloads the
 * table and the counts from /ui/workflow/runs.json. It builds nodes with textContent only, never innerHTML. */
import { CONNECT_EVENTS_JS } from '../../../kernel/index.ts';
import { SHORT_TIME_JS } from './run-row.ts';
import { REFRESH_EVERY_MS, THROTTLE_JS } from './throttle-script.ts';

/** The script text, inlined into the page (no build step, nothing fetched from elsewhere). */
export const RUNS_SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => { const n = document.createElement(tag); if (text !== undefined) n.textContent = String(text); if (cls) n.className = cls; return n; };
  const shortTime = ${SHORT_TIME_JS};
  const seen = new Map();
  for (const tr of document.querySelectorAll('#run-rows tr[data-run-id]')) seen.set(tr.dataset.runId, tr.dataset.key);

  function row(r) {
    const tr = el('tr', undefined, 'run-row');
    const key = r.status + '|' + r.runState;
    tr.dataset.runId = r.runId;
    tr.dataset.key = key;
    if (seen.has(r.runId) ? seen.get(r.runId) !== key : seen.size > 0) tr.classList.add('fresh');
    const id = el('td', undefined, 'mono');
    const a = el('a', r.runId);
    a.href = '/ui/workflow/runs/' + encodeURIComponent(r.runId);
    id.append(a);
    const state = el('td');
    state.append(el('span', r.runState, 'state state-' + r.runState));
    tr.append(id, el('td', r.workflow), el('td', r.foreignId, 'mono'), el('td', r.status, 'mono run-status'), state,
      el('td', shortTime(r.createdAt), 'mono muted'), el('td', shortTime(r.updatedAt), 'mono muted'));
    return tr;
  }

  function render(d) {
    const rows = $('run-rows');
    const next = new Map();
    if (d.runs.length === 0) {
      const tr = el('tr'); const td = el('td', 'No runs match.', 'muted'); td.colSpan = 7; tr.append(td);
      rows.replaceChildren(tr);
    } else rows.replaceChildren(...d.runs.map((r) => { const tr = row(r); next.set(r.runId, tr.dataset.key); return tr; }));
    seen.clear();
    for (const [k, v] of next) seen.set(k, v);
    let total = 0;
    for (const [s, n] of Object.entries(d.counts)) {
      total += n;
      const chip = $('count-' + s);
      if (!chip) continue;
      chip.querySelector('b').textContent = String(n);
      chip.classList.toggle('zero', n === 0);
    }
    $('count-total').textContent = String(total);
    const link = $('next-page');
    if (d.nextHref) { link.href = d.nextHref; link.hidden = false; } else link.hidden = true;
  }

  async function refresh() {
    const res = await fetch('/ui/workflow/runs.json' + location.search, { credentials: 'same-origin', redirect: 'manual' });
    if (res.ok) render(await res.json());
  }
  // Leading and trailing: the first event refreshes at once, a burst collapses into one refresh a second.
  const throttle = ${THROTTLE_JS};
  const schedule = throttle(refresh, ${REFRESH_EVERY_MS});

  const status = $('live-status');
  const texts = { connecting: ['connecting…', 'muted'], open: ['live', 'ok'], reconnecting: ['reconnecting…', 'bad'], closed: ['disconnected', 'bad'] };
  const connectEvents = ${CONNECT_EVENTS_JS};
  let opened = false;
  connectEvents('workflow.run.>', (e) => { if (typeof e.type === 'string' && e.type.startsWith('workflow.run.')) schedule(); }, (s) => {
    status.textContent = texts[s][0];
    status.className = texts[s][1];
    if (s !== 'open') return;
    // Events missed while disconnected are not replayed: read the table again.
    if (opened) schedule();
    opened = true;
  });
})();
`;
