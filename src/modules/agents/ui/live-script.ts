/**
 * Browser scripts that keep the agents console pages live: the list follows `agents.>` on the event stream, an
 * agent's page follows its log (GET .../logs?follow=1, SSE) and reloads once the agent ended to show the final diff.
 */
import { CONNECT_EVENTS_JS } from '../../../kernel/index.ts';

/** Statuses an event type sets on the list (agents.agent.<verb>). */
const STATUS_OF = { queued: 'queued', started: 'running', paused: 'paused', completed: 'completed', failed: 'failed', killed: 'killed' };

/**
 * The list page: a row (tr[data-agent]) gets its status and turn from agent events; an agent or swarm the page does
 * not show yet reloads the page (at most every 2 s).
 */
export const LIST_SCRIPT = `(() => {
  const connectEvents = ${CONNECT_EVENTS_JS};
  const statusOf = ${JSON.stringify(STATUS_OF)};
  let reloadTimer;
  const reloadSoon = () => { if (!reloadTimer) reloadTimer = setTimeout(() => location.reload(), 2000); };
  connectEvents('agents.>', (e) => {
    const id = e.data && e.data.agentId;
    const verb = e.type.split('.').pop();
    if (e.type.startsWith('agents.swarm.') && e.type !== 'agents.swarm.message') return reloadSoon();
    if (!id || !e.type.startsWith('agents.agent.')) return;
    const row = document.querySelector('tr[data-agent="' + CSS.escape(id) + '"]');
    if (!row) return reloadSoon();
    if (statusOf[verb]) {
      const cell = row.querySelector('[data-field=status]');
      cell.textContent = statusOf[verb];
      cell.className = verb === 'completed' ? 'ok' : verb === 'failed' || verb === 'killed' ? 'bad' : '';
    }
    if (verb === 'turn') row.querySelector('[data-field=turn]').textContent = String(e.data.turn);
  }, (status) => { document.body.dataset.live = status; });
})();`;

/**
 * An agent's page: appends log rows after the last one shown (pre#log[data-after]); rows at or before the last seen
 * id are skipped, since the browser reconnects a dropped stream with the same URL. On `end` it reloads.
 */
export const AGENT_SCRIPT = `(() => {
  const log = document.getElementById('log');
  if (!log || log.dataset.ended === 'true') return;
  let last = Number(log.dataset.after);
  const source = new EventSource('/api/v1/agents/agents/' + encodeURIComponent(log.dataset.agent) + '/logs?follow=1&after=' + last);
  source.onmessage = (m) => {
    let r; try { r = JSON.parse(m.data); } catch { return; }
    if (r.id <= last) return;
    last = r.id;
    const line = '[turn ' + r.turn + '] ' + r.kind + ' ' + JSON.stringify(r.content).slice(0, 300);
    log.textContent += (log.textContent ? '\\n' : '') + line;
  };
  source.addEventListener('end', () => { source.close(); location.reload(); });
})();`;
