/**
 * /healthz and /readyz answered before the app's router and shell: load balancers call them many times a second, and
 * they need no auth, rate limit, body or request id (nothing is logged for them, and no caller correlates a probe);
 * they are still timed in the duration histogram. Each response header costs Bun's server about 1 µs, a tenth of a
 * probe's whole CPU (bench/RESULTS.md, "HTTP CPU per request").
 */
import type { Resources } from '../resources.ts';
import { readiness } from './health-routes.ts';
import type { DurationRecorder } from './request-context.ts';

const HEALTHY = '{"status":"ok"}';
const JSON_HEADERS = { 'content-type': 'application/json' };

/** The path of a request URL without parsing it into a URL object (the probes are compared as plain strings). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf(':') + 3);
  if (start < 0) return '/';
  const q = url.indexOf('?', start);
  const h = url.indexOf('#', start);
  const end = q < 0 ? h : h < 0 ? q : Math.min(q, h);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/** Answers a probe request, or returns undefined for any other request (which then goes through the app). */
export function answerProbe(req: Request, resources: Resources, durations: DurationRecorder): Response | Promise<Response> | undefined {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const path = pathOf(req.url);
  if (path !== '/healthz' && path !== '/readyz') return undefined;
  const started = performance.now();
  const respond = (status: number, body: string) => {
    durations.observe(method, path, status, started);
    return new Response(method === 'HEAD' ? null : body, { status, headers: JSON_HEADERS });
  };
  if (path === '/healthz') return respond(200, HEALTHY);
  return readiness(resources).then((r) => respond(r.ready ? 200 : 503, JSON.stringify({ status: r.ready ? 'ready' : 'not ready', ...r })));
}
