/** Turns streamed chunks into the caller's events and assembles the whole completion (text, tool-call deltas, usage). */
import * as z from 'zod';
import type { StreamEvent } from '../model/request.ts';
import type { Usage } from '../model/usage.ts';
import { usageOf, wireUsage, type Completion } from './completion.ts';

const wireChunk = z.object({
  id: z.string().optional(),
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: z.string().nullish(),
            tool_calls: z
              .array(z.object({ index: z.number().int().nonnegative(), id: z.string().nullish(), function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish() }))
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: wireUsage,
  /** Some servers (OpenRouter, vLLM) report a failure mid-stream as a data event carrying `error`. */
  error: z.object({ message: z.string().optional(), code: z.union([z.string(), z.number()]).nullish() }).loose().optional(),
});

/** Thrown by `apply` for a chunk that is not a chat-completion chunk, or that reports an error. */
export class ChunkError extends Error {
  constructor(message: string, readonly providerError = false) {
    super(message);
  }
}

/** Collects one stream. */
export class StreamAssembler {
  #id = '';
  #text = '';
  #hasText = false;
  readonly #calls: { id: string; name: string; arguments: string }[] = [];
  #finish = '';
  #usage: Usage | undefined;

  /** Applies one `data:` payload and returns the events it carries for the caller. */
  apply(payload: string): StreamEvent[] {
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      throw new ChunkError(`stream chunk is not JSON: ${payload.slice(0, 120)}`);
    }
    const parsed = wireChunk.safeParse(json);
    if (!parsed.success) throw new ChunkError(`stream chunk is not a chat-completion chunk: ${parsed.error.issues[0]?.message ?? ''}`);
    const chunk = parsed.data;
    if (chunk.error) throw new ChunkError(chunk.error.message ?? 'error event in stream', true);
    if (chunk.id) this.#id = chunk.id;
    if (chunk.usage) this.#usage = usageOf(chunk.usage);
    const events: StreamEvent[] = [];
    for (const choice of chunk.choices) {
      if (choice.finish_reason) this.#finish = choice.finish_reason;
      const delta = choice.delta;
      if (!delta) continue;
      if (delta.content) {
        this.#text += delta.content;
        this.#hasText = true;
        events.push({ type: 'text', text: delta.content });
      }
      for (const tc of delta.tool_calls ?? []) {
        const call = (this.#calls[tc.index] ??= { id: '', name: '', arguments: '' });
        if (tc.id) call.id = tc.id;
        if (tc.function?.name && !call.name) call.name = tc.function.name;
        const args = tc.function?.arguments ?? '';
        call.arguments += args;
        const ev: StreamEvent = { type: 'tool_call', index: tc.index, arguments: args };
        if (tc.id) ev.id = tc.id;
        if (tc.function?.name) ev.name = tc.function.name;
        events.push(ev);
      }
    }
    return events;
  }

  /** The completion as assembled; fails when a tool call never got its id or name. */
  finish(): Completion {
    const calls = this.#calls.filter(Boolean);
    const broken = calls.find((c) => !c.id || !c.name);
    if (broken) throw new ChunkError(`stream ended with a tool call missing its ${broken.id ? 'name' : 'id'}`);
    return {
      id: this.#id,
      content: this.#hasText ? this.#text : null,
      toolCalls: calls,
      finishReason: this.#finish || (calls.length > 0 ? 'tool_calls' : 'stop'),
      usage: this.#usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    };
  }
}
