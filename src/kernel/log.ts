/** JSON logs through pino; one root logger per process, children per module and request. */
import pino from 'pino';

/** The logger type modules receive. */
export type Logger = pino.Logger;

/** Creates the root logger. `pretty` is ignored: logs are JSON lines, to stderr so stdout stays for CLI output. */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({ level: opts.level ?? 'info', name: opts.name ?? 'capstan', base: { pid: process.pid } }, pino.destination(2));
}
