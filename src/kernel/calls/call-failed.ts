/** Errors of outbound calls: a failed call (maybe worth a retry) and a call refused before it was made. */
import { Forbidden } from '../errors.ts';

/**
 * An outbound call that failed: network error, timeout, a non-2xx answer, an unreadable answer, a command that
 * exited non-zero. `status` is the HTTP status when there was one, so `isTransient` retries 429/5xx.
 */
export class CallFailed extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CallFailed';
  }
}

/** A call that was not made because the target is not allowed (host allowlist, unsupported scheme). */
export class CallRefused extends Forbidden {
  constructor(message: string) {
    super(message);
    this.name = 'CallRefused';
  }
}
