/** Small timing helpers shared by adapters. */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Monotonic milliseconds (never jumps with the wall clock); use for deadlines and lease expiry. */
export function monotonicMs(): number {
  return performance.now();
}
