/**
 * Which hosts an outbound HTTP call may reach. Entries: `api.example.com` (that host, any port),
 * `*.example.com` (its subdomains, not itself), `127.0.0.1:8080` or `[::1]:8080` (that host and port only).
 */
import { Invalid } from '../errors.ts';

/** A parsed allowlist entry. */
interface HostRule {
  host: string;
  wildcard: boolean;
  port?: string;
}

const ENTRY_RE = /^(\*\.)?([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;

/** Parses allowlist entries once; throws Invalid naming the first malformed one. */
export function parseHostAllowlist(entries: readonly string[]): HostRule[] {
  return entries.map((raw, i) => {
    const m = ENTRY_RE.exec(raw.trim().toLowerCase());
    if (!m) throw new Invalid(`'${raw}' is not a host allowlist entry`, [{ path: `allowHosts.${i}`, message: 'use host, *.domain, host:port or [ipv6]:port' }]);
    return { wildcard: m[1] !== undefined, host: m[2]!, port: m[3] };
  });
}

/** The port a URL uses, explicit or the scheme's default. */
function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/** True when `url`'s host (and port, when the rule names one) matches a rule. */
export function hostAllowed(url: URL, rules: readonly HostRule[]): boolean {
  const host = url.hostname.toLowerCase();
  return rules.some((r) => {
    const hostOk = r.wildcard ? host.endsWith(`.${r.host}`) : host === r.host;
    return hostOk && (r.port === undefined || r.port === portOf(url));
  });
}
