/**
 * The run page's inline script: Pause, Resume, Cancel and Delete data call the workflow API with fetch (the console's
 * session cookie authenticates it); events of this run, at most once a second, re-read the page and swap its
 * `data-live` parts (facts, controls, timeline, object, diagram) in place, so the diagram's highlight follows the run
 * without a reload.
 */

import { CONNECT_EVENTS_JS } from '../../../kernel/index.ts';
import { REFRESH_EVERY_MS, THROTTLE_JS } from './throttle-script.ts';

/** The question confirm() asks before Delete data; exported so the browser test can check it is the one asked. */
export const DELETE_CONFIRM = 'Delete the data of this run? Its object is replaced by a placeholder and the objects in its history are erased; the statuses stay. This cannot be undone.';

/** The script text; the run id comes from the page's `#run` element, never spliced into the code. */
export const RUN_SCRIPT = `
(() => {
  const runId = document.getElementById('run').dataset.runId;
  const REASONS = { pause: 'paused in the console', cancel: 'cancelled in the console' };
  const buttons = () => document.querySelectorAll('#controls button[data-action]');

  // Re-reads this page and replaces each data-live element by its new version (server-rendered, escaped there).
  async function refresh() {
    const res = await fetch(location.href, { credentials: 'same-origin', redirect: 'manual' });
    if (!res.ok) return;
    const next = new DOMParser().parseFromString(await res.text(), 'text/html');
    for (const el of document.querySelectorAll('[data-live]')) {
      const fresh = next.getElementById(el.id);
      if (fresh) el.replaceWith(document.importNode(fresh, true));
    }
  }
  const throttle = ${THROTTLE_JS};
  const schedule = throttle(refresh, ${REFRESH_EVERY_MS});

  async function control(action) {
    const error = document.getElementById('control-error');
    error.textContent = '';
    for (const b of buttons()) b.disabled = true;
    try {
      const res = await fetch('/api/v1/workflow/runs/' + encodeURIComponent(runId) + '/' + action, {
        method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(REASONS[action] ? { reason: REASONS[action] } : {}),
      });
      // The action happened; if re-reading the page fails, reload it instead.
      if (res.ok) return await refresh().catch(() => location.reload());
      let detail = '';
      try { const p = await res.json(); detail = p.detail || p.title || ''; } catch {}
      error.textContent = action + ' failed (' + res.status + ')' + (detail ? ': ' + detail : '');
    } catch (err) {
      error.textContent = action + ' failed: ' + err;
    }
    // Re-enable what the state allowed before; the server rendered that choice.
    for (const b of buttons()) b.disabled = b.dataset.allowed !== 'true';
  }

  // Delegated, so buttons swapped in by a refresh work too.
  document.addEventListener('click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('#controls button[data-action]') : null;
    if (!b || b.disabled) return;
    const action = b.dataset.action;
    // Cancelling cannot be undone: the first click only arms the button.
    if (action === 'cancel' && b.dataset.armed !== 'true') {
      b.dataset.armed = 'true';
      b.textContent = 'Really cancel?';
      return;
    }
    // Deleting data cannot be undone either, and scrubs what the page shows: ask the browser's own question.
    if (action === 'delete' && !confirm(${JSON.stringify(DELETE_CONFIRM)})) return;
    control(action);
  });

  const connectEvents = ${CONNECT_EVENTS_JS};
  let opened = false;
  // The page has no stream status line: a dropped stream only means it refreshes later than it could.
  connectEvents('workflow.run.>', (e) => {
    if (e.data && e.data.runId === runId) schedule();
  }, (s) => {
    if (s !== 'open') return;
    // Events missed while disconnected are not replayed: read the page again.
    if (opened) schedule();
    opened = true;
  });
})();
`;
