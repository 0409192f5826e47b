/**
 * The timeouts role's loop. It fires due timeouts, then sleeps until the earliest pending one is due, instead of
 * reading the table on a fixed short period (that period was most of an idle server's CPU). Timeouts are armed by
 * the write that moves a run into a status with a timeout, and that write's status_changed event (through the
 * outbox, on any instance) wakes the loop to read the new earliest time. The sleep is bounded by `maxSleepMs`, a
 * safety net for an announcement that never arrives (the bus was down while the outbox relay held the event).
 */
import type { Clock, EventBus, Logger, Subscription } from '../../../kernel/index.ts';
import { ignoreMalformed, RunStatusChanged } from '../model/events.ts';
import type { TimeoutRow, WorkflowStorePort } from '../store/index.ts';

/** Timeouts fired per read of the table. */
const BATCH = 100;
/** A timeout whose firing failed stays due; it is tried again after this long rather than at once, in a loop. */
const RETRY_FAILED_MS = 1_000;

/** What the loop needs from the engine. */
export interface TimeoutPollerDeps {
  store: WorkflowStorePort;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  /** The longest sleep without news (the module's `timeoutPollMs`). */
  maxSleepMs: number;
  /** The status_changed subjects of every status that has a timeout, for the workflows registered now. */
  timeoutSubjects(): string[];
  /** Fires one due timeout (moves its run if it still waits there) and completes its row. */
  fire(t: TimeoutRow): Promise<void>;
}

/** Runs the loop until `signal` aborts; `wake()` makes it read the table again now (a new definition, a local arm). */
export class TimeoutPoller {
  private rung = false;
  private interrupt: (() => void) | undefined;
  private readonly subs = new Map<string, Subscription>();

  constructor(private readonly d: TimeoutPollerDeps) {}

  /** Ends the current sleep, or the next one if none is under way. */
  wake(): void {
    this.rung = true;
    this.interrupt?.();
  }

  /** The role's work: fire, then sleep until the next due time, a wake-up or the safety net. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        // Cleared before the reads: an announcement from here on sends the loop round again instead of being lost.
        this.rung = false;
        // Subscribed before the table is read, so a timeout armed in between is either read or announced.
        await this.follow(this.d.timeoutSubjects());
        const due = await this.d.store.expiredTimeouts(this.d.clock.date(), BATCH);
        let failed = false;
        for (const t of due) {
          if (signal.aborted) return;
          await this.d.fire(t).catch((err) => {
            failed = true;
            this.d.log.warn({ err, runId: t.runId }, 'timeout failed');
          });
        }
        if (due.length === BATCH && !failed) continue;
        const next = await this.d.store.nextTimeoutAt();
        if (this.rung) continue;
        const untilDue = next ? next.getTime() - this.d.clock.now() : this.d.maxSleepMs;
        await this.sleep(Math.min(this.d.maxSleepMs, Math.max(untilDue, failed ? RETRY_FAILED_MS : 0)), signal);
      }
    } finally {
      await this.follow([]);
    }
  }

  /** Sleeps `ms` on the engine's clock; a wake-up or the role's end cuts it short. */
  private async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0 || signal.aborted) return;
    const woken = new AbortController();
    const stop = () => woken.abort();
    this.interrupt = stop;
    signal.addEventListener('abort', stop, { once: true });
    try {
      await this.d.clock.sleep(ms, woken.signal);
    } finally {
      signal.removeEventListener('abort', stop);
      this.interrupt = undefined;
    }
  }

  /** Keeps one subscription per subject in `subjects` (new definitions add theirs, replaced ones drop theirs). */
  private async follow(subjects: string[]): Promise<void> {
    const wanted = new Set(subjects);
    for (const [subject, sub] of this.subs) {
      if (wanted.has(subject)) continue;
      this.subs.delete(subject);
      await sub.unsubscribe().catch((err) => this.d.log.warn({ err, subject }, 'timeout announcements: unsubscribe failed'));
    }
    for (const subject of wanted) {
      if (this.subs.has(subject)) continue;
      try {
        this.subs.set(subject, await this.d.bus.subscribe(subject, RunStatusChanged.handler(() => this.wake(), ignoreMalformed(this.d.log))));
      } catch (err) {
        // Timeouts must fire with the bus away too: the safety net's reads carry on, and the next round subscribes again.
        this.d.log.warn({ err, subject }, 'timeout announcements: cannot subscribe; polling every timeoutPollMs until the bus is back');
      }
    }
  }
}
