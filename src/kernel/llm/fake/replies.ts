/** Renders a scripted reply (or the echo) as an OpenAI chat-completions answer: a JSON body, an SSE stream, or an HTTP error. */
import type { FakeReply } from './script.ts';

/** What a reply needs to know about the request. */
export interface ReplyContext {
  id: string;
  model: string;
  lastUser: string;
  /** Characters of all message contents, for the estimated prompt tokens. */
  promptChars: number;
  stream: boolean;
  includeUsage: boolean;
  /** Aborts when the client goes away (ends a stalled stream). */
  signal: AbortSignal;
  /** Called once when the answer is completely sent or abandoned. */
  done: () => void;
}

interface Content {
  text: string | null;
  toolCalls: { id: string; name: string; arguments: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  finish: string;
}

const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

function contentOf(reply: FakeReply | undefined, ctx: ReplyContext): Content {
  const toolCalls = (reply?.toolCalls ?? []).map((t, i) => ({ id: t.id ?? `call_${ctx.id}_${i}`, name: t.name, arguments: t.rawArguments ?? JSON.stringify(t.arguments ?? {}) }));
  const echo = !reply || (reply.text === undefined && reply.json === undefined && toolCalls.length === 0);
  const text = echo ? ctx.lastUser : reply!.text !== undefined ? reply!.text : reply!.json !== undefined ? JSON.stringify(reply!.json) : null;
  const outChars = (text?.length ?? 0) + toolCalls.reduce((n, t) => n + t.name.length + t.arguments.length, 0);
  const input = reply?.usage?.input ?? tokens(ctx.promptChars);
  const output = reply?.usage?.output ?? tokens(outChars);
  return { text, toolCalls, usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output }, finish: reply?.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop') };
}

/** An OpenAI-shaped error answer, with Retry-After headers when scripted. */
export function errorResponse(e: NonNullable<FakeReply['error']>): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  if (e.retryAfterMs !== undefined) headers['retry-after-ms'] = String(e.retryAfterMs);
  const type = e.status === 429 ? 'rate_limit_exceeded' : e.status >= 500 ? 'server_error' : 'invalid_request_error';
  return new Response(JSON.stringify({ error: { message: e.message ?? `scripted error ${e.status}`, type, code: type } }), { status: e.status, headers });
}

function completionBody(c: Content, ctx: ReplyContext): string {
  const message: Record<string, unknown> = { role: 'assistant', content: c.text };
  if (c.toolCalls.length) message.tool_calls = c.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));
  return JSON.stringify({ id: `chatcmpl-${ctx.id}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: ctx.model, choices: [{ index: 0, message, finish_reason: c.finish }], usage: c.usage });
}

function split(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The SSE chunks of a streamed answer, in order, `[DONE]` included. */
function streamChunks(c: Content, ctx: ReplyContext, chunkChars: number): string[] {
  const head = { id: `chatcmpl-${ctx.id}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: ctx.model };
  const chunk = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const out = [chunk({ role: 'assistant', content: '' })];
  for (const piece of split(c.text ?? '', chunkChars)) out.push(chunk({ content: piece }));
  c.toolCalls.forEach((t, index) => {
    out.push(chunk({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] }));
    for (const piece of split(t.arguments, chunkChars)) out.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  out.push(chunk({}, c.finish));
  if (ctx.includeUsage) out.push(`data: ${JSON.stringify({ ...head, choices: [], usage: c.usage })}\n\n`);
  out.push('data: [DONE]\n\n');
  return out;
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

function sseResponse(chunks: string[], reply: FakeReply | undefined, ctx: ReplyContext): Response {
  const stallAt = reply?.stall ? reply.stall.afterChunks : undefined;
  const delay = reply?.chunkDelayMs ?? 0;
  const encoder = new TextEncoder();
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      ctx.done();
    }
  };
  const body = new ReadableStream<Uint8Array>({
    async start(ctrl) {
      // The common case (no pacing, no stall) goes out as one write.
      if (stallAt === undefined && delay === 0) {
        ctrl.enqueue(encoder.encode(chunks.join('')));
        ctrl.close();
        finish();
        return;
      }
      for (const [i, c] of chunks.entries()) {
        if (ctx.signal.aborted) break;
        if (stallAt !== undefined && i >= stallAt) {
          // Stay open, silent, until the client gives up.
          await new Promise<void>((r) => (ctx.signal.aborted ? r() : ctx.signal.addEventListener('abort', () => r(), { once: true })));
          break;
        }
        if (i > 0 && delay > 0) await wait(delay, ctx.signal);
        ctrl.enqueue(encoder.encode(c));
      }
      try {
        ctrl.close();
      } catch {
        // Already cancelled by the client.
      }
      finish();
    },
    cancel: finish,
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
}

/** The answer to one chat request; `ctx.done` is called when it is fully sent (at once for non-streams). */
export function renderReply(reply: FakeReply | undefined, ctx: ReplyContext): Response {
  if (reply?.error) {
    ctx.done();
    return errorResponse(reply.error);
  }
  if (reply?.malformed) {
    ctx.done();
    return new Response('this is not a chat completion', { headers: { 'content-type': 'application/json' } });
  }
  const content = contentOf(reply, ctx);
  if (ctx.stream) return sseResponse(streamChunks(content, ctx, reply?.chunkChars ?? 8), reply, ctx);
  ctx.done();
  return new Response(completionBody(content, ctx), { headers: { 'content-type': 'application/json' } });
}
