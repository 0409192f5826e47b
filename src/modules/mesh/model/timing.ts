/** Lease timing of the mesh and the inequality that makes `absolute-consistency` safe, checked when configured. */
import * as z from 'zod';

/** Lease timing (milliseconds). */
export const timingSchema = z
  .strictObject({
    /** A takeover needs the lease record unchanged for this long on the taker's monotonic clock. */
    leaseMs: z.number().int().min(300).default(5_000),
    /** The holder renews this often. */
    renewMs: z.number().int().min(50).default(1_000),
    /** A holder that has not renewed for this long has already stopped its workload. */
    renewDeadlineMs: z.number().int().min(100).default(3_000),
    /** SIGTERM to SIGKILL. */
    stopGraceMs: z.number().int().min(0).default(1_000),
    /** Room for the two monotonic clocks running at different rates and for timers firing late. */
    clockMarginMs: z.number().int().min(0).default(500),
    /** Node heartbeat period; a node is suspect after 3 missed beats and dead after leaseMs. */
    heartbeatMs: z.number().int().min(50).default(500),
  })
  .superRefine((t, ctx) => {
    if (t.renewMs >= t.renewDeadlineMs) ctx.addIssue({ code: 'custom', path: ['renewMs'], message: `renewMs (${t.renewMs}) must be < renewDeadlineMs (${t.renewDeadlineMs})` });
    if (t.stopGraceMs >= t.renewDeadlineMs) ctx.addIssue({ code: 'custom', path: ['stopGraceMs'], message: `stopGraceMs (${t.stopGraceMs}) must be < renewDeadlineMs (${t.renewDeadlineMs})` });
    // The holder's workload is dead by lastRenew + renewDeadline; the taker waits leaseMs after it saw that renewal.
    const need = t.renewDeadlineMs + t.stopGraceMs + t.clockMarginMs;
    if (t.leaseMs <= need) ctx.addIssue({ code: 'custom', path: ['leaseMs'], message: `leaseMs (${t.leaseMs}) must be > renewDeadlineMs + stopGraceMs + clockMarginMs (${need})` });
  });

/** Checked lease timing. */
export type Timing = z.output<typeof timingSchema>;

/** Default timing: lease 5 s, renew 1 s, renew deadline 3 s. */
export const DEFAULT_TIMING: Timing = timingSchema.parse({});
