/** The server span of one HTTP request: continues the caller's `traceparent`, named after the matched route. */
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { Context } from 'hono';
import { recordError } from './spans.ts';

/** Runs `handle` (the rest of the request) inside a server span; the status code and route are set when it is done. */
export async function serverSpan(c: Context, handle: () => Promise<unknown>): Promise<void> {
  const headers = c.req.raw.headers;
  const parent = propagation.extract(ROOT_CONTEXT, headers, { get: (h, k) => h.get(k) ?? undefined, keys: () => ['traceparent', 'tracestate'] });
  const method = c.req.method;
  const span = trace.getTracer('capstan').startSpan(`${method} ${c.req.path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': c.req.path } }, parent);
  try {
    await context.with(trace.setSpan(parent, span), handle);
    // The route template, not the path, names the span: ids in paths would make every request's name unique.
    const route = c.req.routePath;
    if (route && route !== '/*' && route !== '*') {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    }
    const status = c.res.status;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: 2, message: `HTTP ${status}` });
  } catch (err) {
    recordError(span, err);
    throw err;
  } finally {
    span.end();
  }
}
