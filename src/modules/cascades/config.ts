/** The cascades module's configuration slice (`modules.cascades`). */
import * as z from 'zod';

/** Config schema: worker concurrency, heartbeat lease, sweeper period and recovery bound. */
export const cascadesConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Sessions one worker process runs at once (each is a `long` queue job that mostly waits on the LLM). */
    concurrency: z.number().int().min(1).max(100_000).default(200),
    /** A running session whose heartbeat is older than this is orphaned and resumed elsewhere. */
    leaseMs: z.number().int().min(300).default(60_000),
    /** How often a worker renews the heartbeat of each session it runs; well below leaseMs. */
    heartbeatMs: z.number().int().min(100).default(15_000),
    /** How often the (role-held) sweeper looks for orphans, lost jobs and expired human checkpoints. */
    sweepIntervalMs: z.number().int().min(50).default(5_000),
    /** Recoveries of one session before it fails instead. */
    maxRecoveries: z.number().int().min(0).max(100).default(3),
    /** TTL of the sweeper role: a dead holder's sweeper moves within this. */
    roleTtlMs: z.number().int().min(300).default(5_000),
    /** Ended sessions (completed, error, cancelled) are deleted with their checkpoints, logs and costs this long after they ended; 0 keeps them. */
    retentionMs: z.number().int().min(0).default(7 * 24 * 60 * 60 * 1000),
    /** How often the sweeper deletes ended sessions past `retentionMs` (rounded to whole sweep periods). */
    cleanupIntervalMs: z.number().int().min(50).default(60_000),
    /** Per-session data schemas (sql phases, for_each_row results) are dropped this long after their session ended. */
    dataTtlMs: z.number().int().min(0).default(24 * 60 * 60 * 1000),
    /** Longest one statement of a session's SQL may run (statement_timeout). */
    sqlTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    /** The `browser` tool: Chromium driven by playwright-core, one context per session. */
    browser: z
      .strictObject({
        enabled: z.boolean().default(true),
        executablePath: z.string().min(1).default('/usr/bin/chromium'),
        /** Pages one session may have open at once. */
        maxPages: z.number().int().min(1).max(50).default(3),
        actionTimeoutMs: z.number().int().min(100).default(15_000),
      })
      .prefault({}),
    /** Phases one session may run in total (handoffs can loop). */
    maxPhaseRuns: z.number().int().min(1).max(10_000).default(100),
  })
  .superRefine((c, ctx) => {
    if (c.heartbeatMs * 2 > c.leaseMs) ctx.addIssue({ code: 'custom', path: ['heartbeatMs'], message: `must be at most half of leaseMs (${c.leaseMs})` });
  })
  .prefault({});

/** The parsed slice. */
export type CascadesConfig = z.output<typeof cascadesConfigSchema>;
