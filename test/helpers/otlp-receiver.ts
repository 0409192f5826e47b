/** An OTLP/HTTP traces receiver of the tests' own: decodes the JSON encoding and keeps every span with its resource. */

/** One received span, flattened. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  /** Resource attributes of the process that sent it (service.name, service.instance.id, ...). */
  resource: Record<string, unknown>;
  status?: { code?: number; message?: string };
}

/** A running receiver. */
export interface OtlpReceiver {
  /** The traces URL to configure as `tracing.endpoint`. */
  url: string;
  spans: ReceivedSpan[];
  /** Export requests that were not OTLP JSON (a test fails on any). */
  rejected: string[];
  stop(): void;
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };

function valueOf(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  return v.doubleValue;
}

function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** Starts the receiver on a free loopback port. */
export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const type = req.headers.get('content-type') ?? '';
      if (new URL(req.url).pathname !== '/v1/traces' || !type.startsWith('application/json')) {
        rejected.push(`${req.method} ${req.url} ${type}`);
        return new Response('only OTLP/HTTP JSON on /v1/traces', { status: 415 });
      }
      const body = (await req.json()) as { resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: (Omit<ReceivedSpan, 'attributes' | 'resource'> & { attributes?: KeyValue[] })[] }[] }[] };
      for (const rs of body.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) spans.push({ ...s, parentSpanId: s.parentSpanId || undefined, attributes: attrs(s.attributes), resource });
        }
      }
      return Response.json({ partialSuccess: {} });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1/traces`, spans, rejected, stop: () => void server.stop(true) };
}
