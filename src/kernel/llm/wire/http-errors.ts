/** Maps what went wrong on the wire to a typed LLM error, with every key scrubbed from the provider's words. */
import { redactSecrets, type Secret } from '../../config/secret.ts';
import { LlmCancelled, LlmProviderError, LlmRateLimited, LlmTimeout, LlmUnavailable, type LlmError } from '../model/errors.ts';
import type { AbortCause } from '../resilience/attempt-signal.ts';
import { retryAfterMs } from '../resilience/retry-after.ts';

/** Provider error bodies are usually `{error: {message}}`; keep the message short and key-free. */
function providerMessage(text: string, secrets: readonly (Secret | undefined)[]): string {
  let msg = text;
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof m === 'string') msg = m;
  } catch {
    // Not JSON: use the text as it is.
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return redactSecrets(msg.length > 300 ? `${msg.slice(0, 300)}…` : msg, secrets) || '(no message)';
}

/** The typed error for a non-2xx answer. */
export async function errorFromResponse(model: string, res: Response, secrets: readonly (Secret | undefined)[]): Promise<LlmError> {
  const text = await res.text().catch(() => '');
  const message = providerMessage(text, secrets);
  if (res.status === 429) return new LlmRateLimited(model, retryAfterMs(res.headers), message);
  return new LlmProviderError(model, res.status, message);
}

/** The typed error for a fetch or body read that threw: our own abort (cancel or timeout), else a connection failure. */
export function errorFromFailure(model: string, err: unknown, cause: AbortCause | undefined, limits: { overallMs: number; idleMs: number | undefined }, secrets: readonly (Secret | undefined)[]): LlmError {
  if (cause === 'cancelled') return new LlmCancelled(model);
  if (cause === 'overall') return new LlmTimeout(model, 'overall', limits.overallMs);
  if (cause === 'idle') return new LlmTimeout(model, 'idle', limits.idleMs ?? 0);
  const e = err as { code?: unknown; message?: unknown };
  const reason = [typeof e?.code === 'string' ? e.code : undefined, typeof e?.message === 'string' ? e.message : String(err)].filter(Boolean).join(': ');
  return new LlmUnavailable(model, redactSecrets(reason, secrets));
}
