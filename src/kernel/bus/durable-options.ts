/** Validates and fills in defaults for durable subscription options, the same way for every adapter. */
import { Invalid } from '../errors.ts';
import type { DurableOptions, StartPosition } from './port.ts';
import { validatePattern } from './subject-pattern.ts';

/** Durable options after validation, with defaults applied. */
export interface ResolvedDurable {
  name: string;
  pattern: string;
  start: StartPosition;
  ackWaitMs: number;
  /** Undefined means unlimited. */
  maxDeliver?: number;
  /** Events one subscriber handles at once. */
  concurrency: number;
  onPatternChange: 'conflict' | 'replace';
}

/** Longest durable name; names derived from user names fit with boundedName(text, MAX_DURABLE_NAME). */
export const MAX_DURABLE_NAME = 100;
// JetStream consumer names may not contain dots, wildcards or whitespace; one rule for both adapters.
const NAME = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_DURABLE_NAME}}$`);

/** Throws Invalid naming the bad field; returns the options with defaults (start 'new', ackWait 30 s). */
export function resolveDurable(opts: DurableOptions): ResolvedDurable {
  if (typeof opts.name !== 'string' || !NAME.test(opts.name)) {
    throw new Invalid(`invalid durable name '${opts.name}'`, [{ path: 'name', message: `letters, digits, _ and -, 1 to ${MAX_DURABLE_NAME} characters` }]);
  }
  validatePattern(opts.pattern);
  const start = opts.start ?? 'new';
  if (typeof start === 'object') {
    const ok = 'sequence' in start ? Number.isInteger(start.sequence) && start.sequence >= 1 : start.time instanceof Date && !Number.isNaN(start.time.getTime());
    if (!ok) throw new Invalid('invalid start position', [{ path: 'start', message: "'all', 'new', {sequence >= 1} or {time: valid Date}" }]);
  } else if (start !== 'all' && start !== 'new') {
    throw new Invalid('invalid start position', [{ path: 'start', message: "'all', 'new', {sequence} or {time}" }]);
  }
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  if (!Number.isFinite(ackWaitMs) || ackWaitMs < 1) throw new Invalid('invalid ackWaitMs', [{ path: 'ackWaitMs', message: 'must be a positive number of milliseconds' }]);
  const maxDeliver = opts.maxDeliver;
  if (maxDeliver !== undefined && (!Number.isInteger(maxDeliver) || maxDeliver < 1)) {
    throw new Invalid('invalid maxDeliver', [{ path: 'maxDeliver', message: 'must be an integer >= 1' }]);
  }
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
    throw new Invalid('invalid concurrency', [{ path: 'concurrency', message: 'must be an integer from 1 to 10000' }]);
  }
  const onPatternChange = opts.onPatternChange ?? 'conflict';
  if (onPatternChange !== 'conflict' && onPatternChange !== 'replace') {
    throw new Invalid('invalid onPatternChange', [{ path: 'onPatternChange', message: "'conflict' or 'replace'" }]);
  }
  return { name: opts.name, pattern: opts.pattern, start, ackWaitMs, concurrency, onPatternChange, ...(maxDeliver !== undefined ? { maxDeliver } : {}) };
}
