/** The LLM port's public surface, re-exported by src/kernel/index.ts. */
export type { ChatMessage, SystemMessage, UserMessage, AssistantMessage, ToolMessage, ContentPart, ToolCall, ToolDefinition, ToolChoice, JsonSchema } from './model/messages.ts';
export type { ChatRequest, ChatResult, StructuredResult, ResponseFormat, FinishReason, StreamEvent, LlmStream, LlmClient, LlmBudget } from './model/request.ts';
export type { Usage, ModelPrice } from './model/usage.ts';
export type { ModelRef } from './model/model-ref.ts';
export type { LlmConfig, LlmProviderConfig } from './config/schema.ts';
export type { CircuitState } from './resilience/circuit-breaker.ts';
export {
  LlmError,
  LlmRateLimited,
  LlmTimeout,
  LlmUnavailable,
  LlmProviderError,
  LlmMalformedResponse,
  LlmMalformedToolCall,
  LlmInvalidOutput,
  LlmCircuitOpen,
  LlmCancelled,
  LlmBudgetExceeded,
  classifyLlmError,
  type LlmErrorClass,
} from './model/errors.ts';
export { costOf, priceOf } from './model/usage.ts';
export { createLlmClient, type LlmClientOptions } from './client/llm-client.ts';
export { createLlmBudget } from './client/budget.ts';
export { llmConfigSchema } from './config/schema.ts';
