/** A fake OpenAI-compatible server for tests, benchmarks and demos: scripted or echo replies, streaming, and counters of what it saw. */
import { Invalid } from '../../errors.ts';
import { renderReply, type ReplyContext } from './replies.ts';
import { ScriptPlayer, type RequestView } from './script-player.ts';
import { parseScript, type FakeScript } from './script.ts';

/** How to start the fake server. */
export interface FakeLlmOptions {
  port?: number;
  host?: string;
  script?: FakeScript;
  /** Wait before every answer (the model "thinking"); cheap, a timer per request. */
  latencyMs?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (or `api-key: <apiKey>`); a wrong key gets a 401 that quotes it, as some providers do. */
  apiKey?: string;
  /** How many of the latest requests `/_fake/requests` keeps in full (counters cover all). */
  keep?: number;
}

/** One request as the server saw it (the Authorization header is never kept). */
export interface SeenRequest {
  seq: number;
  model: string;
  stream: boolean;
  messages: unknown[];
  tools?: unknown;
  toolChoice?: unknown;
  responseFormat?: unknown;
  headers: Record<string, string>;
  /** When the request arrived (epoch milliseconds, sub-millisecond precision): benchmarks time the gaps between calls. */
  receivedAt: number;
}

/** Counters and the latest requests, as GET /_fake/requests returns them. */
export interface FakeStats {
  total: number;
  inFlight: number;
  maxInFlight: number;
  byModel: Record<string, number>;
  byStatus: Record<string, number>;
  requests: SeenRequest[];
}

/** A running fake server. */
export interface FakeLlmServer {
  url: string;
  port: number;
  stats(limit?: number): FakeStats;
  setScript(script: FakeScript): void;
  reset(): void;
  stop(): Promise<void>;
}

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);
/** Headers that carry keys: counted as seen, never recorded. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'cookie']);
const EMPTY_SCRIPT: FakeScript = { replies: [] };

function lastUserText(messages: unknown[]): string {
  const content = (m: unknown) => {
    const c = (m as { content?: unknown })?.content;
    if (typeof c === 'string') return c;
    if (Array.isArray(c)) return c.map((p) => (typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
    return '';
  };
  for (let i = messages.length - 1; i >= 0; i--) if ((messages[i] as { role?: unknown })?.role === 'user') return content(messages[i]);
  return messages.length ? content(messages[messages.length - 1]) : '';
}

const json = (body: unknown, status = 200) => Response.json(body, { status });

/** Starts the server; resolves at once (Bun listens synchronously). */
export function startFakeLlm(opts: FakeLlmOptions = {}): FakeLlmServer {
  let player = new ScriptPlayer(opts.script ?? EMPTY_SCRIPT);
  const keep = opts.keep ?? 1000;
  const latency = opts.latencyMs ?? 0;
  let seen: SeenRequest[] = [];
  let total = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let byModel: Record<string, number> = {};
  let byStatus: Record<string, number> = {};
  let seq = 0;

  const count = (status: number) => (byStatus[status] = (byStatus[status] ?? 0) + 1);

  async function chat(req: Request): Promise<Response> {
    const receivedAt = performance.timeOrigin + performance.now();
    total++;
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    let finished = false;
    const done = () => {
      if (!finished) {
        finished = true;
        inFlight--;
      }
    };
    try {
      if (opts.apiKey !== undefined) {
        const auth = req.headers.get('authorization') ?? req.headers.get('api-key') ?? '';
        if (auth !== `Bearer ${opts.apiKey}` && auth !== opts.apiKey) {
          done();
          count(401);
          const got = auth.replace(/^Bearer\s+/i, '');
          return json({ error: { message: `Incorrect API key provided: ${got || '(none)'}`, type: 'invalid_request_error', code: 'invalid_api_key' } }, 401);
        }
      }
      let body: Record<string, unknown>;
      try {
        body = (await req.json()) as Record<string, unknown>;
        if (typeof body !== 'object' || body === null || !Array.isArray(body.messages) || typeof body.model !== 'string') throw new Error('model and messages are required');
      } catch (err) {
        done();
        count(400);
        return json({ error: { message: `bad request: ${(err as Error).message}`, type: 'invalid_request_error' } }, 400);
      }
      const messages = body.messages as unknown[];
      const model = body.model as string;
      const stream = body.stream === true;
      const id = String(++seq);
      byModel[model] = (byModel[model] ?? 0) + 1;
      const headers: Record<string, string> = {};
      if (keep > 0) {
        req.headers.forEach((v, k) => {
          if (!SECRET_HEADERS.has(k)) headers[k] = v;
        });
      }
      if (keep > 0) {
        seen.push({ seq, model, stream, messages, tools: body.tools, toolChoice: body.tool_choice, responseFormat: body.response_format, headers, receivedAt });
        // Trim in batches: one copy per `keep` requests rather than a shift per request.
        if (seen.length >= keep * 2) seen = seen.slice(-keep);
      }
      const lastUser = lastUserText(messages);
      const view: RequestView = { model, lastUser, header: (n) => req.headers.get(n) };
      const reply = player.next(view);
      const wait = latency + (reply?.delayMs ?? 0);
      if (wait > 0) await sleepOrAbort(wait, req.signal);
      if (reply?.stall && !stream) await sleepOrAbort(Number.POSITIVE_INFINITY, req.signal);
      if (req.signal.aborted) {
        done();
        count(499);
        return new Response(null, { status: 499 });
      }
      const promptChars = messages.reduce<number>((n, m) => n + JSON.stringify((m as { content?: unknown })?.content ?? '').length, 0);
      const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      const ctx: ReplyContext = { id, model, lastUser, promptChars, stream, includeUsage, signal: req.signal, done };
      const res = renderReply(reply, ctx);
      count(res.status);
      return res;
    } catch (err) {
      done();
      count(500);
      return json({ error: { message: `fake server failed: ${(err as Error).message}` } }, 500);
    }
  }

  const server = Bun.serve({
    port: opts.port ?? 0,
    hostname: opts.host ?? '127.0.0.1',
    // Stalled streams and long latencies must not be cut by Bun's idle timeout.
    idleTimeout: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === 'POST' && CHAT_PATHS.has(path)) return chat(req);
      if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) return json({ object: 'list', data: Object.keys(byModel).map((id) => ({ id, object: 'model', owned_by: 'fake' })) });
      if (req.method === 'GET' && path === '/_fake/requests') {
        const limit = Number(new URL(req.url).searchParams.get('limit') ?? keep);
        return json(api.stats(Number.isFinite(limit) ? limit : keep));
      }
      if (req.method === 'POST' && path === '/_fake/reset') {
        api.reset();
        return json({ ok: true });
      }
      if (req.method === 'PUT' && path === '/_fake/script') {
        try {
          api.setScript(parseScript(await req.text()));
          return json({ ok: true });
        } catch (err) {
          if (err instanceof Invalid) return json({ error: { message: err.message, issues: err.issues } }, 400);
          throw err;
        }
      }
      return json({ error: { message: `no route ${req.method} ${path}` } }, 404);
    },
  });

  const api: FakeLlmServer = {
    url: `http://${server.hostname}:${server.port}`,
    port: server.port!,
    stats: (limit = keep) => ({ total, inFlight, maxInFlight, byModel: { ...byModel }, byStatus: { ...byStatus }, requests: limit > 0 ? seen.slice(-limit) : [] }),
    setScript(script) {
      player = new ScriptPlayer(script);
    },
    reset() {
      player.reset();
      seen = [];
      total = 0;
      maxInFlight = inFlight;
      byModel = {};
      byStatus = {};
    },
    stop: async () => {
      await server.stop(true);
    },
  };
  return api;
}

function sleepOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = Number.isFinite(ms) ? setTimeout(finish, ms) : undefined;
    function finish() {
      if (t) clearTimeout(t);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}
