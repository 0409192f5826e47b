/** One outbound HTTP call with a JSON body and a JSON answer, a timeout, and an optional host allowlist. */
import { Invalid } from '../errors.ts';
import { CallFailed, CallRefused } from './call-failed.ts';
import { hostAllowed, parseHostAllowlist } from './host-allowlist.ts';
import { injectHeaders, withSpan } from '../tracing/spans.ts';

/** An outbound request; `body` is sent as JSON (except for GET and HEAD). */
export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Whole-call limit, answer body included; default 30 s. */
  timeoutMs?: number;
  /** Aborts the call early (shutdown, a cancelled run). */
  signal?: AbortSignal;
}

/** Policy of the caller, usually fixed per module from its config. */
export interface HttpCallOptions {
  /**
   * When set, only these hosts may be called (see host-allowlist.ts), and redirects are not followed, so a
   * permitted host cannot bounce the call elsewhere. Unset: any host, redirects followed.
   */
  allowHosts?: readonly string[];
}

/** Default timeout of callHttp. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

/** Checks the URL against scheme and allowlist before any byte is sent. */
function target(raw: string, options: HttpCallOptions): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Invalid(`'${raw.slice(0, 200)}' is not a URL`, [{ path: 'url', message: 'not a URL' }]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CallRefused(`${url.protocol} URLs cannot be called; use http or https`);
  if (options.allowHosts && !hostAllowed(url, parseHostAllowlist(options.allowHosts))) {
    throw new CallRefused(`host '${url.host}' is not in the allowed hosts (${options.allowHosts.join(', ') || 'none'})`);
  }
  return url;
}

/**
 * Sends `req` and returns the parsed JSON answer (`undefined` for an empty body). Throws CallFailed on a network
 * error, a timeout, a non-2xx status (with `status`) or a non-JSON answer; CallRefused when the target is not allowed.
 */
export async function callHttp(req: HttpRequest, options: HttpCallOptions = {}): Promise<unknown> {
  const url = target(req.url, options);
  // Query strings may hold secrets, so the span names the URL without them.
  const attributes = { 'http.request.method': req.method.toUpperCase(), 'server.address': url.hostname, 'url.full': `${url.origin}${url.pathname}` };
  return withSpan(`${req.method.toUpperCase()} ${url.host}`, { kind: 'client', attributes }, () => send(req, url, options));
}

async function send(req: HttpRequest, url: URL, options: HttpCallOptions): Promise<unknown> {
  const method = req.method.toUpperCase();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...req.headers };
  // The target continues this trace (W3C Trace Context); nothing is added while tracing is off.
  injectHeaders(headers);
  const timeoutMs = req.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const what = `${method} ${req.url}`;
  const noBody = method === 'GET' || method === 'HEAD';
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method, headers, body: noBody ? undefined : JSON.stringify(req.body ?? null), signal, redirect: options.allowHosts ? 'manual' : 'follow' });
    text = await res.text();
  } catch (err) {
    const why = timeout.aborted ? `timed out after ${timeoutMs} ms` : (err as Error).message;
    throw new CallFailed(`${what} failed: ${why}`);
  }
  if (res.status >= 300 && res.status < 400) throw new CallFailed(`${what} answered a redirect (${res.status}), which is not followed when hosts are restricted`, res.status);
  if (!res.ok) throw new CallFailed(`${what} answered ${res.status}: ${text.slice(0, 200)}`, res.status);
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new CallFailed(`${what} answered with non-JSON: ${text.slice(0, 100)}`, res.status);
  }
}
