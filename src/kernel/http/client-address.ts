/** The address of the client a request came from, as the TCP connection shows it. */
import type { Context } from 'hono';
import { serverOf } from './request-state.ts';

/** What the kernel needs of the `env` that Bun.serve hands to the app's fetch (its Server). */
interface PeerSource {
  requestIP?: (req: Request) => { address: string } | null;
}

/**
 * The peer address from Bun's server, or 'unknown' where there is no server (in-process `app.request`). Never
 * X-Forwarded-For: any client can write that header, so a limit keyed on it would be no limit. Behind a reverse
 * proxy every client therefore shares the proxy's address.
 */
export function clientAddress(c: Context): string {
  return peerAddress(serverOf(c), c.req.raw);
}

/** `clientAddress` from the server Bun.serve passed and the request (the shell has no context yet). */
export function peerAddress(server: unknown, req: Request): string {
  return (server as PeerSource | undefined)?.requestIP?.(req)?.address ?? 'unknown';
}
