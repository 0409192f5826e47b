/** `mesh.lease.renewed` sampling: first renewal of a tenure, then at most one event per lease per period, counting. */
import { describe, expect, it } from 'vitest';
import { RenewalSampler } from '../../../src/modules/mesh/runtime/renewal-sampler.ts';

describe('renewal sampler', () => {
  it('publishes the first renewal, then one per period with the count it stands for', () => {
    const s = new RenewalSampler(30_000);
    const due = [0, 1_000, 2_000, 29_000, 30_000, 31_000, 60_500].map((t) => s.renewed('slot.db.0', 7, t));
    expect(due).toEqual([1, undefined, undefined, undefined, 4, undefined, 2]);
  });

  it('keeps leases apart and starts over for a new token or after forget', () => {
    const s = new RenewalSampler(30_000);
    expect(s.renewed('leader', 3, 0)).toBe(1);
    expect(s.renewed('slot.db.0', 9, 10)).toBe(1);
    expect(s.renewed('leader', 3, 20)).toBeUndefined();
    expect(s.renewed('leader', 12, 30)).toBe(1);
    s.forget('slot.db.0');
    expect(s.renewed('slot.db.0', 9, 40)).toBe(1);
  });

  it('reports again on the next renewal when an event could not be published, counting the renewals it missed', () => {
    const s = new RenewalSampler(30_000);
    expect(s.renewed('slot.db.0', 7, 0)).toBe(1);
    expect(s.renewed('slot.db.0', 7, 1_000)).toBeUndefined();
    s.unpublished('slot.db.0', 7, 1);
    // The failed first event (1) and the renewal at 1 s that it would have covered, plus this one.
    expect(s.renewed('slot.db.0', 7, 2_000)).toBe(3);
    expect(s.renewed('slot.db.0', 7, 3_000)).toBeUndefined();
    // A failure reported for a tenure that has since ended changes nothing.
    expect(s.renewed('slot.db.0', 8, 4_000)).toBe(1);
    s.unpublished('slot.db.0', 7, 5);
    expect(s.renewed('slot.db.0', 8, 5_000)).toBeUndefined();
  });
});
