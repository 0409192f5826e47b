/** Typed LLM errors: each has a stable `code`, an HTTP `status` for the shell, and an `errorClass` for metrics. */
import { CapstanError, type FieldIssue } from '../../errors.ts';
import type { Usage } from './usage.ts';

/** The metric label of a failure; bounded, so it is safe as a Prometheus label. */
export type LlmErrorClass =
  | 'rate_limited'
  | 'timeout'
  | 'connection'
  | 'server_error'
  | 'client_error'
  | 'malformed_response'
  | 'malformed_tool_call'
  | 'invalid_output'
  | 'circuit_open'
  | 'cancelled'
  | 'budget_exceeded';

/** Base of every LLM error. `retryable`: another attempt on the same model may succeed; `fallback`: the next model may. */
export abstract class LlmError extends CapstanError {
  abstract readonly errorClass: LlmErrorClass;
  abstract readonly retryable: boolean;
  abstract readonly fallback: boolean;
  constructor(code: string, status: number, readonly model: string, message: string, details: Record<string, unknown> = {}) {
    super(code, status, message, { model, ...details });
  }
}

/** The provider answered 429 (after the retries allowed); `retryAfterMs` is its Retry-After when it sent one. */
export class LlmRateLimited extends LlmError {
  readonly errorClass = 'rate_limited';
  readonly retryable = true;
  readonly fallback = true;
  constructor(model: string, readonly retryAfterMs: number | undefined, providerMessage: string) {
    super('LlmRateLimited', 503, model, `${model}: rate limited by the provider${retryAfterMs !== undefined ? ` (retry after ${Math.ceil(retryAfterMs / 1000)} s)` : ''}: ${providerMessage}`, { retryAfterMs });
  }
}

/** No answer in time: `overall` is the per-attempt limit, `idle` the longest silence allowed between stream chunks. */
export class LlmTimeout extends LlmError {
  readonly errorClass = 'timeout';
  readonly retryable = true;
  readonly fallback = true;
  constructor(model: string, readonly kind: 'overall' | 'idle', readonly timeoutMs: number) {
    super('LlmTimeout', 504, model, `${model}: ${kind === 'idle' ? `no data from the provider for ${timeoutMs} ms` : `no complete answer within ${timeoutMs} ms`}`, { kind, timeoutMs });
  }
}

/** The provider could not be reached (refused, reset, DNS). */
export class LlmUnavailable extends LlmError {
  readonly errorClass = 'connection';
  readonly retryable = true;
  readonly fallback = true;
  constructor(model: string, reason: string) {
    super('LlmUnavailable', 503, model, `${model}: provider unreachable: ${reason}`);
  }
}

/** The provider answered an HTTP error other than 429; 5xx, 408 and 409 are worth retrying, other 4xx are not. */
export class LlmProviderError extends LlmError {
  readonly errorClass: LlmErrorClass;
  readonly retryable: boolean;
  readonly fallback: boolean;
  constructor(model: string, readonly providerStatus: number, providerMessage: string) {
    super('LlmProviderError', 502, model, `${model}: provider answered ${providerStatus}: ${providerMessage}`, { providerStatus });
    this.errorClass = providerStatus >= 500 ? 'server_error' : 'client_error';
    this.retryable = providerStatus >= 500 || providerStatus === 408 || providerStatus === 409;
    this.fallback = providerStatus >= 500 || providerStatus === 408 || providerStatus === 404;
  }
}

/** The provider's answer was not a chat completion we can read (bad JSON, missing choices, broken stream). */
export class LlmMalformedResponse extends LlmError {
  readonly errorClass = 'malformed_response';
  readonly retryable = true;
  readonly fallback = true;
  constructor(model: string, reason: string) {
    super('LlmMalformedResponse', 502, model, `${model}: malformed response: ${reason}`);
  }
}

/** The model called a tool with arguments that are not JSON. Not retried: the caller may tell the model and go on. */
export class LlmMalformedToolCall extends LlmError {
  readonly errorClass = 'malformed_tool_call';
  readonly retryable = false;
  readonly fallback = false;
  constructor(model: string, readonly toolCall: { id: string; name: string; rawArguments: string }, readonly usage: Usage, readonly cost: number | undefined, reason: string) {
    super('LlmMalformedToolCall', 502, model, `${model}: tool call '${toolCall.name}' (${toolCall.id}) has arguments that are not valid JSON: ${reason}`, { toolCall, usage, cost });
  }
}

/** Structured output that is not JSON or does not match the requested schema; `issues` names each bad field. */
export class LlmInvalidOutput extends LlmError {
  readonly errorClass = 'invalid_output';
  readonly retryable = false;
  readonly fallback = false;
  constructor(model: string, readonly issues: FieldIssue[], readonly content: string, readonly usage: Usage, readonly cost: number | undefined) {
    super('LlmInvalidOutput', 502, model, `${model}: structured output does not match the schema: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues, usage, cost });
  }
}

/** Every candidate model's circuit is open (too many recent failures); nothing was sent. */
export class LlmCircuitOpen extends LlmError {
  readonly errorClass = 'circuit_open';
  readonly retryable = false;
  readonly fallback = true;
  constructor(model: string, readonly retryInMs: number) {
    super('LlmCircuitOpen', 503, model, `${model}: circuit open after repeated failures; next probe in ${Math.ceil(retryInMs / 1000)} s`, { retryInMs });
  }
}

/** The caller's AbortSignal fired. */
export class LlmCancelled extends LlmError {
  readonly errorClass = 'cancelled';
  readonly retryable = false;
  readonly fallback = false;
  constructor(model: string) {
    super('LlmCancelled', 499, model, `${model}: call cancelled by the caller`);
  }
}

/** The call's budget is spent; nothing was sent. */
export class LlmBudgetExceeded extends LlmError {
  readonly errorClass = 'budget_exceeded';
  readonly retryable = false;
  readonly fallback = false;
  constructor(model: string, readonly limit: number, readonly spent: number) {
    super('LlmBudgetExceeded', 402, model, `${model}: budget of ${limit} spent (${spent.toFixed(6)} used)`, { limit, spent });
  }
}

/** The metric class of any error: an LLM error's own class, `other` for anything else (a bug, a bad request). */
export function classifyLlmError(err: unknown): LlmErrorClass | 'other' {
  return err instanceof LlmError ? err.errorClass : 'other';
}
