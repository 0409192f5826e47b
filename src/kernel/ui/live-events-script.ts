/** Browser script text shared by the console pages that follow the event stream (/api/v1/events over SSE). */

/** First wait before retrying a refused stream; it doubles on each refusal up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * Script text of `connectEvents(pattern, onEvent, onStatus)`, to inline as `const connectEvents = ${CONNECT_EVENTS_JS};`.
 * It opens an EventSource on `pattern`, hands each parsed event envelope to `onEvent` (unparsable messages are
 * skipped), and reports `onStatus('connecting' | 'open' | 'reconnecting' | 'closed')`; it returns `{ close() }`.
 */
export const CONNECT_EVENTS_JS = `(pattern, onEvent, onStatus) => {
  let source, retryTimer, retryMs = ${FIRST_RETRY_MS}, stopped = false;
  function connect() {
    clearTimeout(retryTimer);
    if (source) source.close();
    onStatus('connecting');
    source = new EventSource('/api/v1/events?pattern=' + encodeURIComponent(pattern));
    const mine = source;
    source.onopen = () => { retryMs = ${FIRST_RETRY_MS}; onStatus('open'); };
    source.onerror = () => {
      if (stopped || mine !== source) return;
      // The browser retries a dropped stream itself; a refused one (4xx) it closes, so retry that with backoff.
      if (source.readyState === EventSource.CLOSED) {
        onStatus('closed');
        retryTimer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, ${MAX_RETRY_MS});
      } else onStatus('reconnecting');
    };
    source.onmessage = (m) => {
      let e; try { e = JSON.parse(m.data); } catch { return; }
      onEvent(e);
    };
  }
  connect();
  return { close() { stopped = true; clearTimeout(retryTimer); source.close(); } };
}`;
