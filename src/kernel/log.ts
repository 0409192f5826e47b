/** JSON logs through pino; one root logger per process, children per module and request. */
import pino from 'pino';
import { traceLogFields } from './tracing/spans.ts';

/** The logger type modules receive. */
export type Logger = pino.Logger;

/** Creates the root logger. `pretty` is ignored: logs are JSON lines, to stderr so stdout stays for CLI output. */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  // The mixin adds traceId and spanId of the active span (nothing while tracing is off), so a log line leads to its trace.
  return pino({ level: opts.level ?? 'info', name: opts.name ?? 'capstan', base: { pid: process.pid }, mixin: traceLogFields }, pino.destination(2));
}
