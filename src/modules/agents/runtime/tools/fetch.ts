/** fetch_url: an HTTP GET to a host on the configured allowlist (none by default), body as text, capped. */
import * as z from 'zod';
import { hostAllowed, parseHostAllowlist } from '../../../../kernel/index.ts';
import { Refusal } from '../refusal.ts';
import type { Tool } from './context.ts';

const args = z.strictObject({ url: z.string().url() });
const TIMEOUT_MS = 20_000;

/** fetch_url */
export const fetchUrl: Tool = {
  name: 'fetch_url',
  description: 'GET a URL (only hosts on the server allowlist) and answer status and body text.',
  parameters: args,
  async run(raw, ctx) {
    const a = args.parse(raw);
    const url = new URL(a.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Refusal('host_denied', `only http and https URLs`);
    if (!hostAllowed(url, parseHostAllowlist(ctx.allowHosts))) throw new Refusal('host_denied', `host ${url.host} is not on the allowlist`);
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(TIMEOUT_MS)]) });
    const text = await res.text();
    return `status ${res.status}\n${text.slice(0, ctx.outputCapBytes)}`;
  },
};
