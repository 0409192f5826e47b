/** What a module passes to `resources.llm.chat()` / `.stream()` and what it gets back. */
import type * as z from 'zod';
import type { AssistantMessage, ChatMessage, JsonSchema, ToolCall, ToolChoice, ToolDefinition } from './messages.ts';
import type { ModelRef } from './model-ref.ts';
import type { Usage } from './usage.ts';

/** Structured output: a JSON Schema (or zod schema, which also types `parsed`) the answer must match, or any JSON object. */
export type ResponseFormat<T = unknown> =
  | { type: 'json_schema'; schema: z.ZodType<T> | JsonSchema; name?: string; strict?: boolean }
  | { type: 'json_object' };

/** A spending limit shared by calls (e.g. one agent run); checked before each call and charged after it. */
export interface LlmBudget {
  readonly limit: number;
  readonly spent: number;
  charge(cost: number): void;
}

/** One chat completion request. */
export interface ChatRequest<T = unknown> {
  /** `<provider>/<model>`, or a bare model name of `llm.defaultProvider`. */
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat<T>;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  /** Cancels the call, including queueing, retries and backoff waits. */
  signal?: AbortSignal;
  /** Overrides the provider's `timeoutMs` for each attempt. */
  timeoutMs?: number;
  /** Models to try in order when this one fails; default `llm.fallbacks[<model>]`; `[]` turns fallback off. */
  fallbacks?: string[];
  /** Extra request headers (e.g. OpenRouter's `HTTP-Referer`); never put a key here, use `apiKeyEnv`. */
  headers?: Record<string, string>;
  /** Provider-specific body fields, merged into the request body as is. */
  extra?: Record<string, unknown>;
  /** Refuse the call when this budget is spent, and charge the call's cost to it. */
  budget?: LlmBudget;
}

/** Why the model stopped: `stop`, `length`, `tool_calls`, `content_filter`, or what the provider said. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | (string & {});

/** A completed call. */
export interface ChatResult<T = unknown> {
  /** The answer as a message, ready to append to `messages`. */
  message: AssistantMessage;
  /** The text content ('' when the model only called tools). */
  text: string;
  /** Tool calls with their arguments parsed from JSON ([] when none). */
  toolCalls: ToolCall[];
  /** The structured output, parsed and checked against the schema; undefined without `responseFormat`. */
  parsed: T | undefined;
  finishReason: FinishReason;
  usage: Usage;
  /** From the price table; undefined when the model has no price configured. */
  cost: number | undefined;
  /** The model that answered: the requested one, or a fallback. */
  model: ModelRef;
  /** The model the caller asked for. */
  requestedModel: string;
  /** HTTP attempts made across retries and fallbacks (1 when the first one answered). */
  attempts: number;
  /** The provider's completion id. */
  id: string;
  latencyMs: number;
}

/** A piece of a streamed answer. */
export type StreamEvent =
  | { type: 'text'; text: string }
  /** A piece of tool call `index`: `id` and `name` arrive with its first piece, `arguments` is the next slice of the JSON text. */
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string };

/** A streamed call: iterate it for the pieces; `result` resolves with the assembled answer when the stream ends. */
export interface LlmStream<T = unknown> extends AsyncIterable<StreamEvent> {
  /** The whole answer; rejects with the same typed error the iteration throws. Leaving the loop early cancels the call. */
  readonly result: Promise<ChatResult<T>>;
}

/** A `ChatResult` whose `parsed` is known to be present (the request had a `responseFormat`). */
export type StructuredResult<T> = ChatResult<T> & { parsed: T };

/** The LLM provider port that modules receive as `resources.llm`. */
export interface LlmClient {
  /** One chat completion, with retries, fallbacks, the provider's concurrency limit and circuit breaker. */
  chat<T>(req: ChatRequest<T> & { responseFormat: ResponseFormat<T> }): Promise<StructuredResult<T>>;
  chat(req: ChatRequest): Promise<ChatResult>;
  /** The same call streamed (SSE); retries and fallbacks apply until the first piece has been delivered. */
  stream<T>(req: ChatRequest<T> & { responseFormat: ResponseFormat<T> }): LlmStream<T> & { readonly result: Promise<StructuredResult<T>> };
  stream(req: ChatRequest): LlmStream;
  /** Which provider and model a name resolves to (throws Invalid for an unknown provider). */
  resolveModel(name: string): ModelRef;
  /** The circuit state of a model: `closed` (calls pass), `open` (calls skip it), `half-open` (one probe passes). */
  circuitState(name: string): 'closed' | 'open' | 'half-open';
  /** Configured provider names. */
  providers(): string[];
}
