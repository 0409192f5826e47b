/** Retry policy of a step or job: how many attempts in all, and how long to wait between them (doubling, capped at an hour). */

/** Total attempts (the first included) and the delay after the first failure, doubled after each further one. */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** Default first backoff when a definition gives `retry.attempts` without `retry.backoff`. */
export const DEFAULT_BACKOFF_MS = 1_000;
/** Longest wait between two attempts, whatever the doubling says. */
export const MAX_BACKOFF_MS = 3_600_000;

/** Delay before the next attempt after `failedAttempts` failures (1 = the first failed); null when no attempt is left. */
export function nextRetryDelayMs(policy: RetryPolicy, failedAttempts: number): number | null {
  if (failedAttempts >= policy.attempts) return null;
  const exp = Math.min(Math.max(failedAttempts - 1, 0), 30);
  return Math.min(policy.backoffMs * 2 ** exp, MAX_BACKOFF_MS);
}
