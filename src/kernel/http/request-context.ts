/** Request ids and the duration histogram: what every request records, whichever path it takes through the shell. */
import type { Logger } from '../log.ts';
import type { KernelMetrics } from '../metrics.ts';
import { HistogramChild } from './histogram-child.ts';

const INCOMING_ID = /^[\w.:-]{1,200}$/;

/**
 * New ids are a random 64-bit process prefix and a scrambled counter: unique across instances and restarts like a
 * UUID, without drawing 16 random bytes per request (crypto.randomUUID cost more than the rest of a probe's answer).
 * The counter is multiplied by an odd number and xored with a random key (a bijection on 32 bits), so consecutive ids
 * do not show how many requests an instance serves; after 2^32 ids the prefix is drawn again.
 */
const randomHex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
let idPrefix = `${randomHex(8)}-`;
const idKey = crypto.getRandomValues(new Uint32Array(1))[0]!;
let idCounter = 0;

function newRequestId(): string {
  if (++idCounter > 0xffffffff) {
    idCounter = 1;
    idPrefix = `${randomHex(8)}-`;
  }
  return idPrefix + ((Math.imul(idCounter, 0x9e3779b1) ^ idKey) >>> 0).toString(36);
}

/** A sane incoming X-Request-Id is kept (so a caller can follow its request through the logs); otherwise a new unique id. */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming && INCOMING_ID.test(incoming) ? incoming : newRequestId();
}

/** Records `http_request_duration_seconds` by method, route pattern and status; warns on 5xx. */
export class DurationRecorder {
  // Resolving a labelled child costs a label hash per request; the set of keys is bounded by the routes. Nested maps
  // (route, method, status) so that finding a child builds no key string per request.
  private readonly children = new Map<string, Map<string, Map<number, HistogramChild>>>();

  constructor(
    private readonly metrics: KernelMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Observes one finished request by its matched route pattern (never the raw path: label cardinality stays bounded);
   * `routePath` is undefined when no route saw the request.
   */
  record(method: string, path: string, routePath: string | undefined, status: number, started: number, requestId: string): void {
    // No route reached: no route for the path (404) or the method (405), or a request the shell refused first (auth,
    // rate limit, body); never the raw path.
    const route = routePath && routePath !== '/*' ? routePath : status === 404 || status === 405 ? 'unmatched' : 'refused';
    this.observe(method, route, status, started);
    if (status >= 500) this.log.warn({ requestId, method, path, status }, 'request failed');
  }

  /** Observes a request answered outside Hono (the probes), by a fixed route. */
  observe(method: string, route: string, status: number, started: number): void {
    let byMethod = this.children.get(route);
    if (!byMethod) this.children.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let child = byStatus.get(status);
    if (!child) {
      child = new HistogramChild(this.metrics.httpDuration, { method, route, status: String(status) });
      byStatus.set(status, child);
    }
    child.observe((performance.now() - started) / 1000);
  }
}
