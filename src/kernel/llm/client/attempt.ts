/** One HTTP attempt against one provider: POST /chat/completions, then read the JSON body or the SSE stream. */
import { redactSecrets } from '../../config/secret.ts';
import { LlmError, LlmMalformedResponse, LlmProviderError } from '../model/errors.ts';
import type { ModelRef } from '../model/model-ref.ts';
import type { ChatRequest, StreamEvent } from '../model/request.ts';
import { attemptSignal } from '../resilience/attempt-signal.ts';
import { parseCompletion, type Completion } from '../wire/completion.ts';
import { errorFromFailure, errorFromResponse } from '../wire/http-errors.ts';
import { sseData } from '../wire/sse.ts';
import { ChunkError, StreamAssembler } from '../wire/stream-assembler.ts';
import { toWireBody } from '../wire/to-wire.ts';
import type { ProviderRuntime } from './provider.ts';

/** Receives stream pieces as they arrive; absent for a non-streamed call. */
export type Emit = (events: StreamEvent[]) => void;

async function readJson(res: Response, target: ModelRef): Promise<Completion> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LlmMalformedResponse(target.id, `body is not JSON: ${text.slice(0, 120)}`);
  }
  const [reason, completion] = parseCompletion(body);
  if (reason !== undefined) throw new LlmMalformedResponse(target.id, reason);
  return completion;
}

async function readStream(res: Response, target: ModelRef, touch: () => void, emit: Emit): Promise<Completion> {
  // A server that ignored `stream: true` answers one JSON body; hand it over as one piece rather than failing.
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const c = await readJson(res, target);
    const events: StreamEvent[] = c.content ? [{ type: 'text', text: c.content }] : [];
    c.toolCalls.forEach((t, index) => events.push({ type: 'tool_call', index, id: t.id, name: t.name, arguments: t.arguments }));
    if (events.length) emit(events);
    return c;
  }
  if (!res.body) throw new LlmMalformedResponse(target.id, 'stream has no body');
  const assembler = new StreamAssembler();
  for await (const payload of sseData(res.body, touch)) {
    const events = assembler.apply(payload);
    if (events.length) emit(events);
  }
  return assembler.finish();
}

/** Sends the request and reads the answer; every failure comes out as a typed LlmError. */
export async function sendChat(p: ProviderRuntime, target: ModelRef, req: ChatRequest, emit?: Emit): Promise<Completion> {
  const overallMs = req.timeoutMs ?? p.cfg.timeoutMs;
  const idleMs = emit ? p.cfg.idleTimeoutMs : undefined;
  const timers = attemptSignal(req.signal, overallMs, idleMs);
  try {
    const res = await fetch(p.url, {
      method: 'POST',
      headers: req.headers ? { ...req.headers, ...p.headers } : p.headers,
      body: JSON.stringify(toWireBody(req, target.model, emit !== undefined)),
      signal: timers.signal,
    });
    timers.touch();
    if (!res.ok) throw await errorFromResponse(target.id, res, p.secrets);
    return emit ? await readStream(res, target, timers.touch, emit) : await readJson(res, target);
  } catch (err) {
    // Our own abort explains the failure better than whatever the body read threw.
    const cause = timers.cause();
    if (err instanceof LlmError && !cause) throw err;
    if (err instanceof ChunkError && !cause) {
      const reason = redactSecrets(err.message, p.secrets);
      throw err.providerError ? new LlmProviderError(target.id, 502, `error in stream: ${reason}`) : new LlmMalformedResponse(target.id, reason);
    }
    throw errorFromFailure(target.id, err, cause, { overallMs, idleMs }, p.secrets);
  } finally {
    timers.dispose();
  }
}
