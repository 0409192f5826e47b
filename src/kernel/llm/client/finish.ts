/** Turns a completion into the caller's ChatResult: tool arguments parsed, structured output checked, cost priced. */
import { LlmInvalidOutput, LlmMalformedToolCall } from '../model/errors.ts';
import type { ToolCall } from '../model/messages.ts';
import type { ModelRef } from '../model/model-ref.ts';
import type { ChatRequest, ChatResult } from '../model/request.ts';
import { checkStructuredOutput } from '../wire/structured-output.ts';
import { parseToolArguments } from '../wire/tool-arguments.ts';
import type { Completion } from '../wire/completion.ts';

/** What the call loop knows besides the completion. */
export interface CallFacts {
  target: ModelRef;
  requestedModel: string;
  attempts: number;
  latencyMs: number;
  cost: number | undefined;
}

/** Builds the result; throws LlmMalformedToolCall or LlmInvalidOutput (both carrying usage and cost, which were spent). */
export function finishResult<T>(c: Completion, req: ChatRequest<T>, f: CallFacts): ChatResult<T> {
  const toolCalls: ToolCall[] = [];
  for (const raw of c.toolCalls) {
    const [reason, args] = parseToolArguments(raw.arguments);
    if (reason !== undefined) throw new LlmMalformedToolCall(f.target.id, { id: raw.id, name: raw.name, rawArguments: raw.arguments }, c.usage, f.cost, reason);
    toolCalls.push({ id: raw.id, name: raw.name, arguments: args });
  }
  let parsed: T | undefined;
  // A reply that only calls tools has no content to check yet; the structured answer comes after the tool round.
  if (req.responseFormat && toolCalls.length === 0) {
    const [issues, value] = checkStructuredOutput(c.content ?? '', req.responseFormat);
    if (issues !== undefined) throw new LlmInvalidOutput(f.target.id, issues, c.content ?? '', c.usage, f.cost);
    parsed = value as T;
  }
  const message: ChatResult['message'] = { role: 'assistant', content: c.content };
  if (toolCalls.length > 0) message.toolCalls = toolCalls;
  return {
    message,
    text: c.content ?? '',
    toolCalls,
    parsed,
    finishReason: c.finishReason,
    usage: c.usage,
    cost: f.cost,
    model: f.target,
    requestedModel: f.requestedModel,
    attempts: f.attempts,
    id: c.id,
    latencyMs: f.latencyMs,
  };
}
