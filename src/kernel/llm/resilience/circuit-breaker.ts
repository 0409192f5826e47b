/** A circuit breaker per provider+model: closed -> open after N failed attempts in a row -> half-open after a pause -> closed on success. */

/** The three states; `half-open` lets a limited number of probe calls through. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Thresholds of one breaker. */
export interface CircuitOptions {
  failureThreshold: number;
  openMs: number;
  halfOpenProbes: number;
  /** Monotonic clock in ms; injectable so tests can step time. */
  now?: () => number;
  onChange?: (state: CircuitState) => void;
}

/** Answer to "may I call?": yes (and a probe slot was taken when half-open), or no and how long until the next probe. */
export type Admission = { ok: true } | { ok: false; retryInMs: number };

/** One breaker. Failures that say nothing about the provider's health (a bad request, a cancel) must not be recorded. */
export class CircuitBreaker {
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probes = 0;
  readonly #now: () => number;

  constructor(private readonly opts: CircuitOptions) {
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The current state, moving open to half-open once the pause is over. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.opts.openMs) this.#set('half-open');
    return this.#state;
  }

  /** Asks to make a call; in half-open only `halfOpenProbes` calls are let through until one of them reports. */
  admit(): Admission {
    const state = this.state;
    if (state === 'closed') return { ok: true };
    if (state === 'half-open' && this.#probes < this.opts.halfOpenProbes) {
      this.#probes++;
      return { ok: true };
    }
    const retryInMs = state === 'open' ? this.opts.openMs - (this.#now() - this.#openedAt) : this.opts.openMs;
    return { ok: false, retryInMs: Math.max(0, retryInMs) };
  }

  /** A call went through: the circuit closes and the failure count restarts. */
  success(): void {
    this.#failures = 0;
    this.#probes = 0;
    if (this.#state !== 'closed') this.#set('closed');
  }

  /** A call failed for a reason that says the provider is unwell; a failed probe reopens at once. */
  failure(): void {
    this.#failures++;
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.opts.failureThreshold)) this.#open();
  }

  /** An admitted call ended without telling anything (cancelled): give a half-open probe slot back. */
  release(): void {
    if (this.#state === 'half-open' && this.#probes > 0) this.#probes--;
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#probes = 0;
    this.#set('open');
  }

  #set(state: CircuitState): void {
    this.#state = state;
    this.opts.onChange?.(state);
  }
}
