/** The server span of one HTTP request: continues the caller's `traceparent`, named after the matched route. */
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { recordError } from './spans.ts';

/**
 * Runs `handle` (the rest of the request, answering it) inside a server span; the status code and route are set when
 * it is done. `routeOf` gives the matched route pattern afterwards, if a route matched.
 */
export async function serverSpan(req: Request, path: string, handle: () => Response | Promise<Response>, routeOf: () => string | undefined): Promise<Response> {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers, { get: (h, k) => h.get(k) ?? undefined, keys: () => ['traceparent', 'tracestate'] });
  const method = req.method;
  const span = trace.getTracer('capstan').startSpan(`${method} ${path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } }, parent);
  try {
    const res = await context.with(trace.setSpan(parent, span), handle);
    // The route template, not the path, names the span: ids in paths would make every request's name unique.
    const route = routeOf();
    if (route && route !== '/*' && route !== '*') {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    }
    const status = res.status;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: 2, message: `HTTP ${status}` });
    return res;
  } catch (err) {
    recordError(span, err);
    throw err;
  } finally {
    span.end();
  }
}
