/** The run page's inline script: Pause, Resume, Cancel and Delete data call the workflow API with fetch (the console's
 * session cookie authenticates it) and reload the page; events of this run reload it too, at most once a second. */

import { CONNECT_EVENTS_JS } from '../../../kernel/index.ts';

/** The question confirm() asks before Delete data; exported so the browser test can check it is the one asked. */
export const DELETE_CONFIRM = 'Delete the data of this run? Its object is replaced by a placeholder and the objects in its history are erased; the statuses stay. This cannot be undone.';

/** The script text; the run id comes from the page's `#run` element, never spliced into the code. */
export const RUN_SCRIPT = `
(() => {
  const root = document.getElementById('run');
  const runId = root.dataset.runId;
  const error = document.getElementById('control-error');
  const REASONS = { pause: 'paused in the console', cancel: 'cancelled in the console' };

  async function control(action) {
    error.textContent = '';
    for (const b of root.querySelectorAll('button[data-action]')) b.disabled = true;
    try {
      const res = await fetch('/api/v1/workflow/runs/' + encodeURIComponent(runId) + '/' + action, {
        method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(REASONS[action] ? { reason: REASONS[action] } : {}),
      });
      if (res.ok) return location.reload();
      let detail = '';
      try { const p = await res.json(); detail = p.detail || p.title || ''; } catch {}
      error.textContent = action + ' failed (' + res.status + ')' + (detail ? ': ' + detail : '');
    } catch (err) {
      error.textContent = action + ' failed: ' + err;
    }
    // Re-enable what the state allowed before; the server rendered that choice.
    for (const b of root.querySelectorAll('button[data-action]')) b.disabled = b.dataset.allowed !== 'true';
  }

  for (const b of root.querySelectorAll('button[data-action]')) {
    b.addEventListener('click', () => {
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
  }

  let timer;
  const connectEvents = ${CONNECT_EVENTS_JS};
  // The page has no stream status line: a dropped stream only means it reloads later than it could.
  connectEvents('workflow.run.>', (e) => {
    if (!e.data || e.data.runId !== runId || timer) return;
    timer = setTimeout(() => location.reload(), 1000);
  }, () => {});
})();
`;
