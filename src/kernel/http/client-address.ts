/** The address of the client a request came from, as the TCP connection shows it. */
import type { Context } from 'hono';

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
  const server = c.env as PeerSource | undefined;
  return server?.requestIP?.(c.req.raw)?.address ?? 'unknown';
}
