/**
 * /healthz and /readyz answered before the app's router and shell: load balancers call them many times a second, and
 * they need no auth, rate limit or body. They still carry a request id and are timed in the duration histogram.
 */
import type { Resources } from '../resources.ts';
import { readiness } from './health-routes.ts';
import { requestIdOf, type DurationRecorder } from './request-context.ts';

const HEALTHY = '{"status":"ok"}';

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
  const id = requestIdOf(req.headers.get('x-request-id'));
  const respond = (status: number, body: string) => {
    durations.observe(method, path, status, started);
    return new Response(method === 'HEAD' ? null : body, { status, headers: { 'content-type': 'application/json', 'x-request-id': id } });
  };
  if (path === '/healthz') return respond(200, HEALTHY);
  return readiness(resources).then((r) => respond(r.ready ? 200 : 503, JSON.stringify({ status: r.ready ? 'ready' : 'not ready', ...r })));
}
