/** Long requests (an await, an event stream) must not be cut by the HTTP server's idle timeout. */
import { serverOf } from './request-state.ts';
import type { Context } from 'hono';

/** What the kernel needs of the `env` that Bun.serve hands to the app's fetch (its Server). */
interface IdleTimeoutSource {
  timeout?: (req: Request, seconds: number) => void;
}

/**
 * Turns off Bun's idle timeout (10 s) for this request, which would otherwise close a connection that stays quiet
 * while the handler waits. The handler must bound the wait itself. No-op without a server (in-process `app.request`).
 */
export function holdConnection(c: Context): void {
  (serverOf(c) as IdleTimeoutSource | undefined)?.timeout?.(c.req.raw, 0);
}

/**
 * Turns Bun's idle timeout back on for this request: the connection is closed once it has made no progress for
 * `seconds`, e.g. a stream that has said its last word to a client that no longer reads. No-op without a server.
 */
export function releaseConnection(c: Context, seconds: number): void {
  (serverOf(c) as IdleTimeoutSource | undefined)?.timeout?.(c.req.raw, Math.max(1, Math.round(seconds)));
}
