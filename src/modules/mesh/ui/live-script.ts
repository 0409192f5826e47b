/**
 * The browser script that keeps /ui/mesh live: on any `mesh.>` event (node joined or dead, lease acquired or lost,
 * replica started or fenced) it fetches the page again and swaps its #mesh part in place, at most once a second; it
 * does so every 5 s anyway, since node ageing and sampled renewals raise no event each time. Between fetches the lease
 * and beat ages count up by themselves.
 */
import { CONNECT_EVENTS_JS } from '../../../kernel/index.ts';

/** Inline script text of the mesh page. */
export const MESH_SCRIPT = `(() => {
  const connectEvents = ${CONNECT_EVENTS_JS};
  let shownAt = performance.now(), pending, busy = false;
  const refresh = async () => {
    pending = undefined;
    if (busy) return;
    busy = true;
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.getElementById('mesh'), cur = document.getElementById('mesh');
      if (fresh && cur) { cur.replaceWith(fresh); shownAt = performance.now(); document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1); }
    } finally { busy = false; }
  };
  const soon = () => { if (!pending) pending = setTimeout(refresh, 1000); };
  connectEvents('mesh.>', soon, (status) => { document.body.dataset.live = status; });
  setInterval(soon, 5000);
  setInterval(() => {
    const extra = performance.now() - shownAt;
    for (const el of document.querySelectorAll('[data-age-ms]')) el.textContent = ((Number(el.dataset.ageMs) + extra) / 1000).toFixed(1) + ' s';
  }, 1000);
})();`;
