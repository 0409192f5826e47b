/** LLM port contract, streaming: pieces and the assembled answer, tool-call deltas, usage, a stalled stream, retries before the first piece, leaving early. */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { LlmMalformedToolCall, LlmTimeout, type StreamEvent } from '../../src/kernel/index.ts';
import { rejection } from '../helpers/async.ts';
import { fakeLlmForFile, fakeProvider, testClient } from './llm-fake.ts';
import { eventually } from './queue-helpers.ts';

const fake = fakeLlmForFile();

const config = (over: Record<string, unknown> = {}) => ({ providers: { fake: fakeProvider(fake, { prices: { m: { input: 1, output: 2 } }, ...over }) } });

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const ev of stream) out.push(ev);
  return out;
}

describe('LLM port: streaming', () => {
  it('streams text in pieces that add up to the result, with usage from the final chunk', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    await fake.script({ replies: [{ text, chunkChars: 5, usage: { input: 12, output: 11 } }] });
    const { llm } = testClient(config());
    const s = llm.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }] });
    const events = await collect(s);
    expect(events.length).toBe(Math.ceil(text.length / 5));
    expect(events.map((e) => (e.type === 'text' ? e.text : '')).join('')).toBe(text);
    const r = await s.result;
    expect(r.text).toBe(text);
    expect(r.usage).toEqual({ inputTokens: 12, outputTokens: 11, totalTokens: 23 });
    expect(r.cost).toBeCloseTo((12 * 1 + 11 * 2) / 1e6, 12);
    const seen = (await fake.stats()).requests[0]!;
    expect(seen.stream).toBe(true);
  });

  it('assembles tool-call deltas into parsed tool calls', async () => {
    await fake.script({ replies: [{ toolCalls: [{ id: 'c1', name: 'lookup', arguments: { q: 'capstan', limit: 3 } }, { id: 'c2', name: 'now' }], chunkChars: 4 }] });
    const { llm } = testClient(config());
    const s = llm.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }], tools: [{ name: 'lookup', parameters: z.object({ q: z.string(), limit: z.number() }) }, { name: 'now', parameters: z.object({}) }] });
    const events = await collect(s);
    const pieces = events.filter((e) => e.type === 'tool_call' && e.index === 0);
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.map((e) => (e.type === 'tool_call' ? e.arguments : '')).join('')).toBe('{"q":"capstan","limit":3}');
    const r = await s.result;
    expect(r.finishReason).toBe('tool_calls');
    expect(r.toolCalls).toEqual([
      { id: 'c1', name: 'lookup', arguments: { q: 'capstan', limit: 3 } },
      { id: 'c2', name: 'now', arguments: {} },
    ]);
  });

  it('fails a stream whose assembled tool-call arguments are not JSON with LlmMalformedToolCall', async () => {
    await fake.script({ replies: [{ toolCalls: [{ name: 'lookup', rawArguments: '{"q": ' }] }] });
    const { llm } = testClient(config());
    const s = llm.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }] });
    const err = await rejection(collect(s));
    expect(err).toBeInstanceOf(LlmMalformedToolCall);
    expect(await rejection(s.result)).toBe(err);
  });

  it('fails a stalled stream with an idle LlmTimeout instead of hanging', async () => {
    await fake.script({ replies: [{ text: 'this stream stops after two chunks', chunkChars: 4, stall: { afterChunks: 2 }, times: 'always' }] });
    const { llm } = testClient(config({ idleTimeoutMs: 300, maxRetries: 0 }));
    const s = llm.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }] });
    const err = await rejection(s.result);
    expect(err).toBeInstanceOf(LlmTimeout);
    expect((err as LlmTimeout).kind).toBe('idle');
    expect((err as LlmTimeout).code).toBe('LlmTimeout');
  });

  it('retries a stream that failed before its first piece (500, then success)', async () => {
    await fake.script({ replies: [{ error: { status: 500 } }, { text: 'second time lucky' }] });
    const { llm } = testClient(config());
    const s = llm.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }] });
    const events = await collect(s);
    expect(events.map((e) => (e.type === 'text' ? e.text : '')).join('')).toBe('second time lucky');
    expect((await s.result).attempts).toBe(2);
    expect((await fake.stats()).byStatus).toEqual({ '500': 1, '200': 1 });
  });

  it('does not retry once a piece reached the caller: a stall mid-stream is final', async () => {
    await fake.script({ replies: [{ text: 'partial answer that stalls', chunkChars: 3, stall: { afterChunks: 3 }, times: 'always' }] });
    const { llm } = testClient(config({ idleTimeoutMs: 300, maxRetries: 3 }));
    const s = llm.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }] });
    const err = await rejection(collect(s));
    expect(err).toBeInstanceOf(LlmTimeout);
    expect((await fake.stats()).total).toBe(1);
  });

  it('cancels the call when the caller leaves the loop early', async () => {
    await fake.script({ replies: [{ text: 'a long answer sent slowly, piece by piece', chunkChars: 2, chunkDelayMs: 50 }] });
    const { llm } = testClient(config());
    const s = llm.stream({ model: 'm', messages: [{ role: 'user', content: 'go' }] });
    for await (const ev of s) {
      expect(ev.type).toBe('text');
      break;
    }
    expect((await rejection(s.result)) as Error).toMatchObject({ code: 'LlmCancelled' });
    // The server sees the connection go: nothing stays in flight.
    await eventually('the server to see the stream closed', async () => (await fake.stats()).inFlight === 0);
  });
});
