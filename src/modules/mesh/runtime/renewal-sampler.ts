/**
 * `mesh.lease.renewed` is sampled: a holder renews every second per lease, and an event per renewal would flood the
 * bus with nothing new. The first renewal of a tenure is published, then at most one per lease every `everyMs`
 * (monotonic), carrying how many renewals it stands for, so a reader still sees that the lease is alive and how often
 * it was renewed.
 */

/** Default spacing of `mesh.lease.renewed` events per lease. */
export const RENEWED_EVENT_EVERY_MS = 30_000;

/** Decides which renewals are published. */
export class RenewalSampler {
  private readonly last = new Map<string, { at: number; token: number; renewals: number }>();

  constructor(private readonly everyMs = RENEWED_EVENT_EVERY_MS) {}

  /** Counts a renewal at monotonic `now`; returns the number of renewals to report when one is due, else undefined. */
  renewed(lease: string, token: number, now: number): number | undefined {
    const l = this.last.get(lease);
    // A new token is a new tenure: its first renewal is news.
    if (!l || l.token !== token) {
      this.last.set(lease, { at: now, token, renewals: 0 });
      return 1;
    }
    l.renewals++;
    if (now - l.at < this.everyMs) return undefined;
    const n = l.renewals;
    l.at = now;
    l.renewals = 0;
    return n;
  }

  /**
   * The event for `token` could not be published (the bus timed out, say): the next renewal reports again, with the
   * renewals counted since, instead of the tenure going unannounced for `everyMs`.
   */
  unpublished(lease: string, token: number, renewals: number): void {
    const l = this.last.get(lease);
    if (!l || l.token !== token) return;
    l.at = -Infinity;
    l.renewals += renewals;
  }

  /** Forgets a lease (lost or released), so its next tenure starts with an event. */
  forget(lease: string): void {
    this.last.delete(lease);
  }
}
