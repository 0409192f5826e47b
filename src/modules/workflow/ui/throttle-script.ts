/** Browser script text shared by the workflow pages that refresh on live events. */

/** Least time between two refreshes of a page's live parts, however many events arrive. */
export const REFRESH_EVERY_MS = 1_000;

/**
 * Script text of `throttle(work, everyMs)`, to inline as `const throttle = ${THROTTLE_JS};`. It returns `schedule()`:
 * the first call runs `work` at once, later calls within `everyMs` of the last start (or while it runs) collapse into
 * one more run, so a burst of events costs at most one refresh per `everyMs`. Errors of `work` are swallowed.
 */
export const THROTTLE_JS = `(work, everyMs) => {
  let timer, last = 0, busy = false;
  async function run() {
    timer = undefined;
    if (busy) return schedule();
    busy = true;
    last = Date.now();
    try { await work(); } catch {} finally { busy = false; }
  }
  function schedule() {
    if (timer !== undefined) return;
    timer = setTimeout(run, Math.max(0, last + everyMs - Date.now()));
  }
  return schedule;
}`;
