/** Unit tests of the LLM wire format: SSE framing, stream assembly, completion parsing, request bodies, model names, redaction. */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { Secret, redactSecrets } from '../../src/kernel/config/secret.ts';
import { Invalid } from '../../src/kernel/errors.ts';
import { resolveModel } from '../../src/kernel/llm/model/model-ref.ts';
import { parseCompletion } from '../../src/kernel/llm/wire/completion.ts';
import { sseData } from '../../src/kernel/llm/wire/sse.ts';
import { ChunkError, StreamAssembler } from '../../src/kernel/llm/wire/stream-assembler.ts';
import { checkStructuredOutput } from '../../src/kernel/llm/wire/structured-output.ts';
import { toWireBody } from '../../src/kernel/llm/wire/to-wire.ts';

function bytes(parts: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(enc.encode(p));
      c.close();
    },
  });
}

async function all(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of sseData(stream, () => {})) out.push(d);
  return out;
}

describe('sseData', () => {
  it('frames events split anywhere across reads, with CRLF, comments, multi-line data, and stops at [DONE]', async () => {
    const text = ': keep-alive\r\ndata: {"a":1}\r\n\r\nevent: x\ndata: line one\ndata: line two\n\ndata:{"b":2}\n\ndata: [DONE]\n\ndata: after done\n\n';
    const split = [text.slice(0, 7), text.slice(7, 20), text.slice(20, 21), text.slice(21, 60), text.slice(60)];
    expect(await all(bytes(split))).toEqual(['{"a":1}', 'line one\nline two', '{"b":2}']);
  });
  it('keeps a last event that ends without its blank line', async () => {
    expect(await all(bytes(['data: {"x":1}\n']))).toEqual(['{"x":1}']);
  });
});

describe('StreamAssembler', () => {
  const chunk = (o: unknown) => JSON.stringify(o);
  it('assembles text, interleaved tool-call deltas and the usage chunk', () => {
    const a = new StreamAssembler();
    a.apply(chunk({ id: 'c1', choices: [{ delta: { role: 'assistant', content: '' } }] }));
    expect(a.apply(chunk({ choices: [{ delta: { content: 'Hi ' } }] }))).toEqual([{ type: 'text', text: 'Hi ' }]);
    a.apply(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 't0', function: { name: 'f', arguments: '{"a"' } }] } }] }));
    a.apply(chunk({ choices: [{ delta: { tool_calls: [{ index: 1, id: 't1', function: { name: 'g', arguments: '' } }] } }] }));
    a.apply(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }] }));
    a.apply(chunk({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] }));
    a.apply(chunk({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } }));
    expect(a.finish()).toEqual({
      id: 'c1',
      content: 'Hi ',
      toolCalls: [
        { id: 't0', name: 'f', arguments: '{"a":1}' },
        { id: 't1', name: 'g', arguments: '' },
      ],
      finishReason: 'tool_calls',
      usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 },
    });
  });
  it('refuses a chunk that is not JSON, and reports an error event as a provider error', () => {
    expect(() => new StreamAssembler().apply('{oops')).toThrow(ChunkError);
    try {
      new StreamAssembler().apply(chunk({ error: { message: 'upstream overloaded' } }));
      expect.unreachable();
    } catch (err) {
      expect((err as ChunkError).providerError).toBe(true);
    }
  });
  it('refuses a stream whose tool call never got a name', () => {
    const a = new StreamAssembler();
    a.apply(chunk({ choices: [{ delta: { tool_calls: [{ index: 0, id: 't', function: { arguments: '{}' } }] } }] }));
    expect(() => a.finish()).toThrow(/missing its name/);
  });
});

describe('parseCompletion', () => {
  it('reads a completion, tool calls with object arguments included', () => {
    const [reason, c] = parseCompletion({ id: 'x', choices: [{ message: { content: null, tool_calls: [{ id: 'a', function: { name: 'f', arguments: { k: 1 } } }] }, finish_reason: 'tool_calls' }] });
    expect(reason).toBeUndefined();
    expect(c).toMatchObject({ content: null, toolCalls: [{ id: 'a', name: 'f', arguments: '{"k":1}' }], usage: { inputTokens: 0 } });
  });
  it('says why a body is not a completion', () => {
    expect(parseCompletion({ choices: [] })[0]).toContain('has no choices');
    expect(parseCompletion({ object: 'error' })[0]).toContain('choices');
  });
});

describe('toWireBody', () => {
  it('maps camelCase messages, tools, tool choice, response format and options to the OpenAI wire shape', () => {
    const body = toWireBody(
      {
        model: 'p/m',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', imageUrl: 'data:image/png;base64,AA' }] },
          { role: 'assistant', content: null, toolCalls: [{ id: 'c', name: 'f', arguments: { a: 1 } }] },
          { role: 'tool', toolCallId: 'c', content: 'done' },
        ],
        tools: [{ name: 'f', parameters: { type: 'object' }, strict: true }],
        toolChoice: { name: 'f' },
        responseFormat: { type: 'json_object' },
        maxTokens: 10,
        extra: { top_k: 3, model: 'ignored' },
      },
      'm',
      true,
    );
    expect(body).toEqual({
      top_k: 3,
      model: 'm',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'done' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_object' },
      max_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});

describe('checkStructuredOutput', () => {
  it('accepts JSON in a Markdown fence and checks it against a zod schema', () => {
    expect(checkStructuredOutput('```json\n{"n": 2}\n```', { type: 'json_schema', schema: z.object({ n: z.number() }) })).toEqual([undefined, { n: 2 }]);
    expect(checkStructuredOutput('{"n": "two"}', { type: 'json_schema', schema: z.object({ n: z.number() }) })[0]![0]!.path).toBe('n');
  });
});

describe('resolveModel', () => {
  const providers = new Set(['openai', 'openrouter']);
  it('splits <provider>/<model>, sends other names whole to the default provider', () => {
    expect(resolveModel('openai/gpt-4o', providers, 'openrouter')).toEqual({ provider: 'openai', model: 'gpt-4o', id: 'openai/gpt-4o' });
    expect(resolveModel('openrouter/anthropic/claude-3.5-sonnet', providers, undefined).model).toBe('anthropic/claude-3.5-sonnet');
    expect(resolveModel('anthropic/claude-3.5-sonnet', providers, 'openrouter')).toEqual({ provider: 'openrouter', model: 'anthropic/claude-3.5-sonnet', id: 'openrouter/anthropic/claude-3.5-sonnet' });
  });
  it('refuses a bare name without a default provider, and an empty model', () => {
    expect(() => resolveModel('gpt-4o', providers, undefined)).toThrow(Invalid);
    expect(() => resolveModel('openai/', providers, undefined)).toThrow(/no model/);
  });
});

describe('Secret and redactSecrets', () => {
  it('prints as (redacted) in JSON and strings, and scrubs known keys and key-shaped text', () => {
    const s = new Secret('tok-123456789');
    expect(JSON.stringify({ s })).toBe('{"s":"(redacted)"}');
    expect(`${s}`).toBe('(redacted)');
    expect(Bun.inspect({ s })).not.toContain('tok-123456789');
    expect(redactSecrets('bad key tok-123456789; also sk-abcdefghijkl and Bearer abc.def', [s])).toBe('bad key ***; also sk-*** and Bearer ***');
  });
});
