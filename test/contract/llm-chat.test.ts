/** LLM port contract, plain calls: replies, tool round trips, structured output, malformed answers and costs, against the fake server process. */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createLlmBudget, LlmBudgetExceeded, LlmInvalidOutput, LlmMalformedResponse, LlmMalformedToolCall, LlmProviderError, type ChatMessage, type ToolDefinition } from '../../src/kernel/index.ts';
import { rejection } from '../helpers/async.ts';
import { fakeLlmForFile, fakeProvider, metricValue, testClient } from './llm-fake.ts';

const fake = fakeLlmForFile();

const config = () => ({ defaultProvider: 'fake', providers: { fake: fakeProvider(fake, { prices: { priced: { input: 3, output: 15 } } }) } });

describe('LLM port: plain calls', () => {
  it('answers a plain chat and sends exactly the model and messages the caller gave', async () => {
    const { llm } = testClient(config());
    const messages: ChatMessage[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello fake' },
    ];
    const r = await llm.chat({ model: 'gpt-test', messages, temperature: 0.2, maxTokens: 50 });
    expect(r.text).toBe('hello fake');
    expect(r.message).toEqual({ role: 'assistant', content: 'hello fake' });
    expect(r.model).toEqual({ provider: 'fake', model: 'gpt-test', id: 'fake/gpt-test' });
    expect(r.finishReason).toBe('stop');
    expect(r.attempts).toBe(1);
    expect(r.usage.inputTokens).toBeGreaterThan(0);
    const seen = (await fake.stats()).requests;
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ model: 'gpt-test', stream: false, messages });
  });

  it('resolves <provider>/<model> and a bare name to the same provider', async () => {
    const { llm } = testClient(config());
    await llm.chat({ model: 'fake/a-model', messages: [{ role: 'user', content: 'x' }] });
    await llm.chat({ model: 'org/b-model', messages: [{ role: 'user', content: 'y' }] });
    const models = (await fake.stats()).requests.map((r) => r.model);
    // The first segment of `org/b-model` names no provider, so the whole name goes to the default provider.
    expect(models).toEqual(['a-model', 'org/b-model']);
  });

  it('runs a tools round trip: tool call parsed, tool result sent back with its id, final answer', async () => {
    const weather: ToolDefinition = { name: 'get_weather', description: 'weather of a city', parameters: z.object({ city: z.string() }) };
    await fake.script({ replies: [{ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] }, { match: { lastUser: 'weather' }, text: 'It is sunny in Paris.' }] });
    const { llm } = testClient(config());
    const messages: ChatMessage[] = [{ role: 'user', content: 'what is the weather in Paris?' }];
    const first = await llm.chat({ model: 'm', messages, tools: [weather], toolChoice: 'auto' });
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toEqual([{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }]);
    messages.push(first.message, { role: 'tool', toolCallId: 'call_1', content: JSON.stringify({ sky: 'sunny' }) });
    const second = await llm.chat({ model: 'm', messages, tools: [weather] });
    expect(second.text).toBe('It is sunny in Paris.');
    const [req1, req2] = (await fake.stats()).requests;
    expect(req1!.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } }]);
    expect(req1!.toolChoice).toBe('auto');
    expect(req2!.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"sunny"}' },
    ]);
  });

  it('returns structured output parsed and typed by a zod schema, and sends it as json_schema', async () => {
    await fake.script({ replies: [{ json: { title: 'Dune', year: 1965 } }] });
    const { llm } = testClient(config());
    const book = z.object({ title: z.string(), year: z.number().int() });
    const r = await llm.chat({ model: 'm', messages: [{ role: 'user', content: 'a book' }], responseFormat: { type: 'json_schema', name: 'book', schema: book } });
    expect(r.parsed).toEqual({ title: 'Dune', year: 1965 });
    const year: number = r.parsed.year;
    expect(year).toBe(1965);
    const sent = (await fake.stats()).requests[0]!.responseFormat as { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
    expect(sent.type).toBe('json_schema');
    expect(sent.json_schema.name).toBe('book');
    expect(sent.json_schema.strict).toBe(true);
    expect(sent.json_schema.schema).toMatchObject({ type: 'object', required: ['title', 'year'] });
  });

  it('checks structured output against a plain JSON Schema and names the bad field', async () => {
    await fake.script({ replies: [{ json: { title: 'Dune', year: 'long ago' } }, { text: 'not json at all' }] });
    const { llm } = testClient(config());
    const schema = { type: 'object', properties: { title: { type: 'string' }, year: { type: 'integer' } }, required: ['title', 'year'] };
    const err = await rejection(llm.chat({ model: 'priced', messages: [{ role: 'user', content: 'a book' }], responseFormat: { type: 'json_schema', schema } }));
    expect(err).toBeInstanceOf(LlmInvalidOutput);
    expect((err as LlmInvalidOutput).code).toBe('LlmInvalidOutput');
    expect((err as LlmInvalidOutput).issues.map((i) => i.path)).toEqual(['year']);
    expect((err as LlmInvalidOutput).cost).toBeGreaterThan(0);
    const notJson = await rejection(llm.chat({ model: 'm', messages: [{ role: 'user', content: 'a book' }], responseFormat: { type: 'json_schema', schema } }));
    expect((notJson as LlmInvalidOutput).issues[0]!.message).toMatch(/not JSON/);
  });

  it('reports a malformed tool-call argument as a typed error carrying the raw text and the usage spent', async () => {
    await fake.script({ replies: [{ toolCalls: [{ id: 'call_x', name: 'search', rawArguments: '{"query": "unterminated' }], usage: { input: 100, output: 20 } }] });
    const { llm, registry } = testClient(config());
    const err = await rejection(llm.chat({ model: 'priced', messages: [{ role: 'user', content: 'find' }], tools: [{ name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } } }] }));
    expect(err).toBeInstanceOf(LlmMalformedToolCall);
    const e = err as LlmMalformedToolCall;
    expect(e.code).toBe('LlmMalformedToolCall');
    expect(e.toolCall).toEqual({ id: 'call_x', name: 'search', rawArguments: '{"query": "unterminated' });
    expect(e.usage).toMatchObject({ inputTokens: 100, outputTokens: 20 });
    expect(e.retryable).toBe(false);
    // Not retried: one request; and the call is counted under its error class.
    expect((await fake.stats()).total).toBe(1);
    expect(await metricValue(registry, 'llm_calls_total', { provider: 'fake', model: 'priced', outcome: 'malformed_tool_call' })).toBe(1);
  });

  it('computes cost from the price table per million tokens and counts tokens and cost in metrics', async () => {
    await fake.script({ replies: [{ text: 'a', usage: { input: 1000, output: 500 }, times: 2 }] });
    const { llm, registry } = testClient(config());
    const r = await llm.chat({ model: 'priced', messages: [{ role: 'user', content: 'x' }] });
    expect(r.usage).toEqual({ inputTokens: 1000, outputTokens: 500, totalTokens: 1500 });
    expect(r.cost).toBeCloseTo((1000 * 3 + 500 * 15) / 1e6, 12);
    await llm.chat({ model: 'priced', messages: [{ role: 'user', content: 'x' }] });
    expect(await metricValue(registry, 'llm_tokens_total', { provider: 'fake', model: 'priced', direction: 'input' })).toBe(2000);
    expect(await metricValue(registry, 'llm_tokens_total', { provider: 'fake', model: 'priced', direction: 'output' })).toBe(1000);
    expect(await metricValue(registry, 'llm_cost_total', { provider: 'fake', model: 'priced' })).toBeCloseTo(0.021, 9);
    expect(await metricValue(registry, 'llm_calls_total', { provider: 'fake', model: 'priced', outcome: 'ok' })).toBe(2);
    // A model without a price has an unknown cost, not a zero one.
    expect((await llm.chat({ model: 'unpriced', messages: [{ role: 'user', content: 'x' }] })).cost).toBeUndefined();
  });

  it('charges a shared budget with each call and refuses the call after it is spent, sending nothing', async () => {
    await fake.script({ replies: [{ text: 'a', usage: { input: 100_000, output: 0 }, times: 'always' }] });
    const { llm } = testClient(config());
    const budget = createLlmBudget(0.5);
    // Each call costs 100,000 input tokens at 3 per million = 0.3: the second call overspends, the third is refused.
    await llm.chat({ model: 'priced', messages: [{ role: 'user', content: 'x' }], budget });
    await llm.chat({ model: 'priced', messages: [{ role: 'user', content: 'x' }], budget });
    expect(budget.spent).toBeCloseTo(0.6, 12);
    const err = await rejection(llm.chat({ model: 'priced', messages: [{ role: 'user', content: 'x' }], budget }));
    expect(err).toBeInstanceOf(LlmBudgetExceeded);
    expect((err as LlmBudgetExceeded).code).toBe('LlmBudgetExceeded');
    expect((await fake.stats()).total).toBe(2);
  });

  it('turns a 200 whose body is not a completion into LlmMalformedResponse after retrying it', async () => {
    await fake.script({ replies: [{ malformed: true, times: 'always' }] });
    const { llm } = testClient(config());
    const err = await rejection(llm.chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }));
    expect(err).toBeInstanceOf(LlmMalformedResponse);
    expect((await fake.stats()).total).toBe(3);
  });

  it('does not retry a 400 and reports the provider status and message', async () => {
    await fake.script({ replies: [{ error: { status: 400, message: 'context length exceeded' }, times: 'always' }] });
    const { llm } = testClient(config());
    const err = (await rejection(llm.chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] }))) as LlmProviderError;
    expect(err).toBeInstanceOf(LlmProviderError);
    expect(err.providerStatus).toBe(400);
    expect(err.message).toContain('context length exceeded');
    expect((await fake.stats()).total).toBe(1);
  });
});
