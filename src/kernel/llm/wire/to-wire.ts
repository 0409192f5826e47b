/** Builds the OpenAI chat-completions request body from a ChatRequest (camelCase in, snake_case on the wire). */
import type { ChatMessage, ToolChoice, ToolDefinition } from '../model/messages.ts';
import type { ChatRequest, ResponseFormat } from '../model/request.ts';
import { wireSchema } from './json-schema.ts';

function wireMessage(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: m.content };
    case 'user':
      return {
        role: 'user',
        content: typeof m.content === 'string' ? m.content : m.content.map((p) => (p.type === 'text' ? p : { type: 'image_url', image_url: { url: p.imageUrl } })),
      };
    case 'assistant': {
      const out: Record<string, unknown> = { role: 'assistant', content: m.content };
      if (m.toolCalls?.length) {
        out.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) } }));
      }
      return out;
    }
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  }
}

function wireTool(t: ToolDefinition): Record<string, unknown> {
  const fn: Record<string, unknown> = { name: t.name, parameters: wireSchema(t.parameters) };
  if (t.description !== undefined) fn.description = t.description;
  if (t.strict !== undefined) fn.strict = t.strict;
  return { type: 'function', function: fn };
}

function wireToolChoice(c: ToolChoice): unknown {
  return typeof c === 'string' ? c : { type: 'function', function: { name: c.name } };
}

function wireResponseFormat(f: ResponseFormat): unknown {
  if (f.type === 'json_object') return { type: 'json_object' };
  return { type: 'json_schema', json_schema: { name: f.name ?? 'output', schema: wireSchema(f.schema), strict: f.strict ?? true } };
}

/** The JSON body for POST /chat/completions; `model` is the provider's model name. */
export function toWireBody(req: ChatRequest, model: string, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model, messages: req.messages.map(wireMessage) };
  if (req.tools?.length) body.tools = req.tools.map(wireTool);
  if (req.toolChoice !== undefined) body.tool_choice = wireToolChoice(req.toolChoice);
  if (req.responseFormat) body.response_format = wireResponseFormat(req.responseFormat);
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop !== undefined) body.stop = req.stop;
  if (req.seed !== undefined) body.seed = req.seed;
  if (stream) {
    body.stream = true;
    // Without this the provider sends no usage in a stream, and the call's cost would be unknown.
    body.stream_options = { include_usage: true };
  }
  return req.extra ? { ...req.extra, ...body } : body;
}
